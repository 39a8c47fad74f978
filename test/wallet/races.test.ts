import { sql, type Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/ledger/schema.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { ExternalTxId, ProviderId, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { waitForLockWaiters } from '../support/db.ts';
import { fileLedger, fundedPlayer } from './ledger.ts';

/**
 * Races between two transactions that are not serialized by one player's wallet lock: two players
 * naming the same transaction id, two back-office operations with one reference. The losing side is
 * held deterministically: a raw transaction inserts the contested key and stays open until the wallet
 * call is seen waiting for it, then commits.
 */
const USD = asCurrency('USD');

const ledger = fileLedger();

const player = (code: string, funds: bigint) => fundedPlayer(ledger, code, funds);

/** Runs `contender` while an open transaction holds `hold`'s rows, commits once the contender waits on them. */
async function race<T>(hold: (trx: Transaction<Database>) => Promise<void>, contender: () => Promise<T>): Promise<T> {
  let pending: Promise<T> | undefined;
  await ledger.db.transaction().execute(async (trx) => {
    await hold(trx);
    pending = contender();
    pending.catch(() => undefined);
    await waitForLockWaiters(ledger.db);
  });
  return pending!;
}

describe("a player's round created meanwhile by another transaction", () => {
  // The wallet lock orders one player's operations in one currency; an operation in another currency
  // locks another wallet row, so it can create the round a bet's snapshot did not see.
  it('the bet that lost the race runs again and sees the round: here one in another currency, so it is refused and nothing moves', async () => {
    const provider = ProviderId('race-round-provider');
    const wallet = new Wallet(ledger.db);
    const kim = await player('race-kim', 10_000n);
    const outcome = await race(
      async (trx) => {
        await sql`insert into rounds (provider_id, external_id, player_id, currency) values (${provider}, 'r-raced', ${kim.id}, 'EUR')`.execute(trx);
      },
      () => wallet.execute({ op: 'debit', player: kim.code, currency: USD, provider, txId: ExternalTxId('raced-bet'), amount: 300n, roundId: 'r-raced' }),
    );
    expect(outcome).toEqual({ type: 'refused', reason: 'currency_mismatch', balance: 10_000n });
    expect(await wallet.execute({ op: 'balance', player: kim.code, currency: USD, requireActive: false })).toMatchObject({ balance: 10_000n });
    // The refusal is kept on the round the other transaction created; no bet line, no second round.
    const { rows } = await sql<{ status: string; rounds: number; lines: number }>`
      select t.status, (select count(*)::int from rounds where provider_id = ${provider}) as rounds,
        (select count(*)::int from bet_lines l where l.provider_transaction_id = t.id) as lines
      from provider_transactions t where t.provider_id = ${provider} and t.external_id = 'raced-bet'`.execute(ledger.db);
    expect(rows).toEqual([{ status: 'refused', rounds: 1, lines: 0 }]);
  });
});

describe('two players naming one transaction id at one provider', () => {
  it('the loser is refused as a conflict, and its later operations still work', async () => {
    // A provider no other test uses, so the loser's house account (game slot) is created inside the losing transaction.
    const provider = ProviderId('race-provider');
    const wallet = new Wallet(ledger.db);
    const alice = await player('race-alice', 10_000n);
    const bob = await player('race-bob', 10_000n);
    expect(alice.id % 32n).not.toBe(bob.id % 32n);

    const outcome = await race(
      async (trx) => {
        await sql`insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, refusal)
                  values (${provider}, 'contested', ${alice.id}, 'debit', 'USD', 100, 'refused', 'insufficient_funds')`.execute(trx);
      },
      () => wallet.execute({ op: 'debit', player: bob.code, currency: USD, provider, txId: ExternalTxId('contested'), amount: 100n, roundId: 'r' }),
    );
    expect(outcome).toEqual({ type: 'refused', reason: 'conflict', balance: 10_000n });
    expect(await wallet.execute({ op: 'balance', player: bob.code, currency: USD, requireActive: false })).toMatchObject({ balance: 10_000n });

    // The losing transaction rolled back, and with it any house account it created. Bob's next bet,
    // win and rollback at that provider must work (not fail on a house account that no longer exists).
    const next = await wallet
      .execute({ op: 'debit', player: bob.code, currency: USD, provider, txId: ExternalTxId('after-race'), amount: 300n, roundId: 'r2' })
      .catch((error: unknown) => ({ type: 'error', message: (error as Error).message }));
    expect(next).toEqual({ type: 'ok', balance: 9_700n, moved: true });
    const win = await wallet
      .execute({ op: 'credit', player: bob.code, currency: USD, provider, txId: ExternalTxId('after-race-win'), amount: 50n, roundId: 'r2' })
      .catch((error: unknown) => ({ type: 'error', message: (error as Error).message }));
    expect(win).toEqual({ type: 'ok', balance: 9_750n, moved: true });
  });

  it('the loser of a race on a house account that already exists is refused as a conflict and nothing moves', async () => {
    const provider = ProviderId('race-provider-2');
    const wallet = new Wallet(ledger.db);
    const carol = await player('race-carol', 10_000n);
    const dave = await player('race-dave', 10_000n);
    // Both game slots exist before the race (a stake-free credit needs no bet on its round).
    expect(await wallet.execute({ op: 'credit', stakeFree: true, player: carol.code, currency: USD, provider, txId: ExternalTxId('warm-c'), amount: 0n })).toMatchObject({ type: 'ok' });
    expect(await wallet.execute({ op: 'credit', stakeFree: true, player: dave.code, currency: USD, provider, txId: ExternalTxId('warm-d'), amount: 0n })).toMatchObject({ type: 'ok' });

    const outcome = await race(
      async (trx) => {
        await sql`insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, refusal)
                  values (${provider}, 'contested', ${carol.id}, 'debit', 'USD', 100, 'refused', 'insufficient_funds')`.execute(trx);
      },
      () => wallet.execute({ op: 'debit', player: dave.code, currency: USD, provider, txId: ExternalTxId('contested'), amount: 100n, roundId: 'r' }),
    );
    expect(outcome).toEqual({ type: 'refused', reason: 'conflict', balance: 10_000n });
    const rows = await ledger.db.selectFrom('provider_transactions').select(['player_id']).where('provider_id', '=', provider).where('external_id', '=', 'contested').execute();
    expect(rows).toEqual([{ player_id: carol.id }]);
    expect(await wallet.execute({ op: 'debit', player: dave.code, currency: USD, provider, txId: ExternalTxId('after'), amount: 100n })).toEqual({
      type: 'ok',
      balance: 9_900n,
      moved: true,
    });
  });
});

describe('two back-office operations with one reference', () => {
  it('the loser is refused as a conflict, not an exception, and nothing moves', async () => {
    const erin = await player('race-erin', 0n);
    const frank = await player('race-frank', 0n);
    expect(erin.id % 32n).not.toBe(frank.id % 32n);
    // The cashier slot of erin exists (so the held transaction can credit from it).
    expect((await ledger.backOffice.cashier('deposit', erin.code, USD, 1n, 'warm-erin')).ok).toBe(true);
    const { rows } = await sql<{ cashier: bigint; wallet: bigint }>`
      select (select id from accounts where kind = 'cashier' and currency = 'USD' and slot = ${Number(erin.id % 32n)}) as cashier,
             (select id from accounts where kind = 'player' and player_id = ${erin.id}) as wallet`.execute(ledger.db);
    const { cashier, wallet } = rows[0]!;

    const outcome = await race(
      async (trx) => {
        const { rows: inserted } = await sql<{ id: bigint }>`
          insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
          values (${cashier}, ${wallet}, 500, 'USD', 'deposit') returning id`.execute(trx);
        await sql`insert into cashier_operations (reference, player_id, kind, currency, amount, transfer_id)
                  values ('contested-ref', ${erin.id}, 'deposit', 'USD', 500, ${inserted[0]!.id})`.execute(trx);
      },
      () =>
        ledger.backOffice
          .cashier('deposit', frank.code, USD, 500n, 'contested-ref')
          .catch((error: unknown) => ({ ok: 'threw', message: (error as Error).message })),
    );
    expect.soft(outcome).toEqual({ ok: false, reason: 'conflict' });
    const view = await ledger.backOffice.player(frank.code);
    expect(view.ok && view.value.wallets[0]!.balance).toBe(0n);
    // The losing transaction created frank's cashier slot and rolled back: his next deposit must still work.
    const next = await ledger.backOffice
      .cashier('deposit', frank.code, USD, 700n, 'after-race-ref')
      .catch((error: unknown) => ({ ok: 'threw', message: (error as Error).message }));
    expect(next).toEqual({ ok: true, value: { balance: 700n } });
  });
});

describe("one player's operations meeting on the database alone (Redis away, or another process)", () => {
  // The player lock keeps a player's calls apart in the normal case; without it, two operations of
  // one player meet on the wallet row lock, and the one that waited must decide on everything the
  // first one committed. The first is held open (its writes done, its COMMIT not sent) until the
  // second is seen waiting for the wallet row.
  const SCORPIO = ProviderId('scorpio-play');

  /** Runs `first` and, once its writes are done, `second`; commits `first` when `second` waits for the wallet. */
  async function meet(wallet: Wallet, first: WalletOperation, second: WalletOperation): Promise<[Outcome, Outcome]> {
    let pending: Promise<Outcome> | undefined;
    const outcome = await wallet.execute(first, async (_trx, result) => {
      pending = wallet.execute(second);
      pending.catch(() => undefined);
      await waitForLockWaiters(ledger.db);
      return result;
    });
    return [outcome, await pending!];
  }

  it('a rollback that waited for the bet it names refunds it, never "not found"', async () => {
    const wallet = new Wallet(ledger.db);
    const gina = await player('race-gina', 10_000n);
    const bet: WalletOperation = { op: 'debit', player: gina.code, currency: USD, provider: SCORPIO, txId: ExternalTxId('met-bet'), amount: 300n, roundId: 'r' };
    const rollback: WalletOperation = { op: 'rollback', player: gina.code, currency: USD, provider: SCORPIO, target: ExternalTxId('met-bet') };
    expect(await meet(wallet, bet, rollback)).toEqual([
      { type: 'ok', balance: 9_700n, moved: true },
      { type: 'ok', balance: 10_000n, moved: true },
    ]);
    expect(await wallet.execute({ op: 'balance', player: gina.code, currency: USD, requireActive: false })).toMatchObject({ balance: 10_000n });
  });

  it('a bet that waited for a rollback naming it is refused (rule 2), never taken', async () => {
    const wallet = new Wallet(ledger.db);
    const hal = await player('race-hal', 10_000n);
    const rollback: WalletOperation = { op: 'rollback', player: hal.code, currency: USD, provider: SCORPIO, target: ExternalTxId('met-late-bet') };
    const bet: WalletOperation = { op: 'debit', player: hal.code, currency: USD, provider: SCORPIO, txId: ExternalTxId('met-late-bet'), amount: 300n, roundId: 'r' };
    expect(await meet(wallet, rollback, bet)).toEqual([
      { type: 'refused', reason: 'target_not_found', balance: 10_000n },
      { type: 'refused', reason: 'rolled_back', balance: 10_000n },
    ]);
    expect(await wallet.execute({ op: 'balance', player: hal.code, currency: USD, requireActive: false })).toMatchObject({ balance: 10_000n });
  });

  it('a repeat of a bet that waited for the bet sees it: a duplicate, taken once', async () => {
    const wallet = new Wallet(ledger.db);
    const ivy = await player('race-ivy', 10_000n);
    const bet: WalletOperation = { op: 'debit', player: ivy.code, currency: USD, provider: SCORPIO, txId: ExternalTxId('met-twice'), amount: 300n, roundId: 'r' };
    expect(await meet(wallet, bet, bet)).toEqual([
      { type: 'ok', balance: 9_700n, moved: true },
      { type: 'duplicate', balance: 9_700n },
    ]);
  });
});
