import { afterAll, beforeAll, expect } from 'vitest';
import type { Db } from '../../src/ledger/database.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, type ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

export interface FileLedger {
  readonly db: Db;
  readonly backOffice: BackOffice;
}

/**
 * A test file's own ledger: a database created before its tests and dropped after them, once
 * whatever they left behind reconciles; with a back office on it for setting players up.
 */
export function fileLedger(): FileLedger {
  let t: TestDatabase | undefined;
  let backOffice: BackOffice | undefined;
  beforeAll(async () => {
    t = await createTestDatabase();
    backOffice = new BackOffice(t.db);
  });
  afterAll(async () => {
    try {
      expect(await reconcile(t!.db)).toEqual([]);
    } finally {
      await t!.drop();
    }
  });
  return {
    get db() {
      return t!.db;
    },
    get backOffice() {
      return backOffice!;
    },
  };
}

/** A new player with a USD wallet funded through the cashier, and its id. */
export async function fundedPlayer(ledger: FileLedger, code: string, funds: bigint): Promise<{ code: PlayerCode; id: bigint }> {
  const USD = asCurrency('USD');
  expect((await ledger.backOffice.createPlayer(PlayerCode(code), [USD])).ok).toBe(true);
  if (funds > 0n) expect((await ledger.backOffice.cashier('deposit', PlayerCode(code), USD, funds, `fund:${code}`)).ok).toBe(true);
  const { id } = await ledger.db.selectFrom('players').select('id').where('code', '=', code).executeTakeFirstOrThrow();
  return { code: PlayerCode(code), id };
}

/** A USD bet of `who` at `provider`, on a round of its own (`round-<txId>`) unless one is named. */
export const usdBet = (provider: ProviderId, who: PlayerCode, txId: string, amount: bigint, roundId = `round-${txId}`): Extract<WalletOperation, { op: 'debit' }> => ({
  op: 'debit',
  provider,
  player: who,
  currency: asCurrency('USD'),
  txId: ExternalTxId(txId),
  amount,
  roundId,
});
