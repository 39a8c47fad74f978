import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/ledger/database.ts';
import { migrateToLatest } from '../../src/ledger/migrate.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { migratedTo, type TestDatabase } from '../support/db.ts';

/**
 * The migration that lets a rolled-back closing win reopen its round, on a ledger an earlier release
 * filled: a round closed by a win that release then rolled back stayed settled, so its bet's rollback
 * was refused. The rollback is written below as that release wrote it (the win reversed, the round
 * left settled); after the migration the round is open and the bet's rollback refunds the stake.
 */
const USD = asCurrency('USD');
const HUB88 = ProviderId('hub88');
const BEFORE = '2026-12-04T0001_transfer_one_update';

let t: TestDatabase;
let db: Db;
const run = (op: Record<string, unknown>) => new Wallet(db).execute({ player: PlayerCode('voided'), currency: USD, provider: HUB88, ...op } as WalletOperation);
const states = async () =>
  (await sql<{ state: string }>`select l.state from bet_lines l join rounds r on r.id = l.round_id where r.external_id = 'V:1' order by l.id`.execute(db)).rows.map((r) => r.state);
const settledBy = async () => (await sql<{ settled_by: bigint | null }>`select settled_by from rounds where external_id = 'V:1'`.execute(db)).rows[0]!.settled_by;

beforeAll(async () => {
  t = await migratedTo(BEFORE);
  db = t.db;
  const backOffice = new BackOffice(db);
  expect((await backOffice.createPlayer(PlayerCode('voided'), [USD])).ok).toBe(true);
  expect((await backOffice.cashier('deposit', PlayerCode('voided'), USD, 10_000n, 'voided-deposit')).ok).toBe(true);
  expect(await run({ op: 'debit', txId: ExternalTxId('v-bet'), roundId: 'V:1', amount: 1_000n })).toMatchObject({ type: 'ok', balance: 9_000n });
  expect(await run({ op: 'credit', txId: ExternalTxId('v-win'), roundId: 'V:1', amount: 2_500n, closes: true })).toMatchObject({ type: 'ok', balance: 11_500n });
  // The earlier release's rollback of the closing win: the win reversed, the round left settled.
  await sql`with win as (
      select t.id, t.provider_id, t.external_id, t.player_id, t.amount, tr.debit_account_id as game, tr.credit_account_id as wallet
      from provider_transactions t join transfers tr on tr.id = t.transfer_id where t.external_id = 'v-win'
    ), reversal as (
      insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
      select wallet, game, amount, 'USD', 'win_reversal' from win returning id
    )
    insert into rollbacks (provider_id, target_external_id, player_id, target_id, transfer_id)
    select w.provider_id, w.external_id, w.player_id, w.id, r.id from win w, reversal r`.execute(db);
  expect(await run({ op: 'rollback', target: ExternalTxId('v-bet') })).toMatchObject({ type: 'refused', reason: 'line_closed', balance: 9_000n });
  expect(await settledBy()).not.toBeNull();
  expect(await migrateToLatest(db)).toContain('2026-12-05T0001_reopen_rolled_back_settlement');
});

afterAll(() => t?.drop());

describe('a round closed by a win rolled back before the migration', () => {
  it('is open after it, reconciles, and its bet is refunded when the vendor rolls it back again', async () => {
    expect(await settledBy()).toBeNull();
    expect(await states()).toEqual(['open']);
    expect(await reconcile(db)).toEqual([]);
    expect(await run({ op: 'rollback', target: ExternalTxId('v-bet') })).toMatchObject({ type: 'ok', balance: 10_000n });
    expect(await states()).toEqual(['cancelled']);
    expect(await reconcile(db)).toEqual([]);
  });
});
