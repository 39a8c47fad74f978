import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HouseAccounts } from '../../src/ledger/accounts.ts';
import { createDatabase, type Db } from '../../src/ledger/database.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * The wallet's statements are prepared once per connection (LedgerClient). Postgres plans a prepared
 * statement for its first five calls' values, then keeps one plan for any values (the generic plan)
 * unless that plan looks dearer than planning each call. A statement whose text leaves out what the
 * generic plan would count (a subquery a parameter switches off, an array of unknown length) is
 * planned again on every call, and that was several percent of Postgres's CPU per wallet call
 * (docs/performance.md). On one connection, so that every statement is seen where it was prepared.
 */
const USD = asCurrency('USD');
const PROVIDER = ProviderId('plans-provider');
let t: TestDatabase;
let db: Db;

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDatabase({ url: t.url, poolSize: 1, lockTimeoutMs: 5000, statementTimeoutMs: 30000, preferIndexes: true });
});
afterAll(async () => {
  await db.destroy();
  await t.drop();
});

/** A bet, its closing win and the win again (a vendor's retry); an itemised round, one line cancelled, the other settled; a status. */
const roundsOf = (player: PlayerCode, key: string) => [
  { op: 'balance', requireActive: true },
  { op: 'debit', txId: ExternalTxId(`bet-${key}`), roundId: `a-${key}`, amount: 100n },
  { op: 'credit', txId: ExternalTxId(`win-${key}`), roundId: `a-${key}`, amount: 250n, closes: true },
  { op: 'credit', txId: ExternalTxId(`win-${key}`), roundId: `a-${key}`, amount: 250n, closes: true },
  { op: 'debit', txId: ExternalTxId(`lines-${key}`), roundId: `b-${key}`, amount: 300n, lines: [{ ref: '1', amount: 100n }, { ref: '2', amount: 200n }] },
  { op: 'cancel_bets', txId: ExternalTxId(`cancel-${key}`), roundId: `b-${key}`, amount: 100n, lines: [{ ref: '1', amount: 100n }] },
  { op: 'settle', txId: ExternalTxId(`result-${key}`), roundId: `b-${key}`, lines: [{ ref: '2', stake: 200n, winloss: -200n }], totals: { stake: 200n, winloss: -200n } },
  { op: 'status', txId: ExternalTxId(`bet-${key}`) },
].map((op) => ({ player, currency: USD, provider: PROVIDER, ...op }) as WalletOperation);

it('every prepared wallet statement runs from one plan after its first five calls', async () => {
  const backOffice = new BackOffice(t.db);
  const players = Array.from({ length: 8 }, (_, i) => PlayerCode(`plans-${i}`));
  const before = new Wallet(t.db);
  for (const [i, player] of players.entries()) {
    expect((await backOffice.createPlayer(player, [USD])).ok).toBe(true);
    expect((await backOffice.cashier('deposit', player, USD, 100_000n, `plans-in-${i}`)).ok).toBe(true);
    for (const op of roundsOf(player, `before-${i}`)) await before.execute(op);
  }
  // Rows and statistics, as a ledger in use has them (autovacuum's, or statistics.ts's): on small
  // tables every plan costs next to nothing, the generic one too. Refused bets of a player of
  // another vendor, with a line each: not a ledger a reconcile would pass (a line of a bet that was
  // never taken), so this file's ledger is not reconciled.
  expect((await backOffice.createPlayer(PlayerCode('plans-filler'), [USD])).ok).toBe(true);
  await sql`
    with r as (
      insert into rounds (provider_id, external_id, player_id, currency)
      select 'filler', 'f' || g, (select id from players where code = 'plans-filler'), 'USD' from generate_series(1, 20000) g
      returning id, external_id, player_id
    ), t as (
      insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, round_id, status, refusal)
      select 'filler', external_id, player_id, 'debit', 'USD', 100, id, 'refused', 'insufficient_funds' from r
      returning id, round_id
    )
    insert into bet_lines (provider_transaction_id, round_id, ref, amount) select id, round_id, '1', 100 from t`.execute(t.db);
  await sql`analyze`.execute(t.db);

  const wallet = new Wallet(db, new HouseAccounts(), { group: 16 });
  for (const [i, player] of players.entries()) {
    const outcomes = [];
    for (const op of roundsOf(player, String(i))) outcomes.push(await wallet.execute(op, undefined, { nowait: i % 2 === 0 }));
    expect(outcomes.map((o) => o.type)).toEqual(['ok', 'ok', 'ok', 'duplicate', 'ok', 'ok', 'ok', 'status']);
  }
  const { rows } = await sql<{ statement: string; generic_plans: bigint; custom_plans: bigint }>`
    select statement, generic_plans, custom_plans from pg_prepared_statements`.execute(db);
  const called = rows.filter((r) => r.generic_plans + r.custom_plans > 5n);
  expect(called.length).toBeGreaterThanOrEqual(5);
  expect(called.filter((r) => r.custom_plans > 5n).map((r) => r.statement.replace(/\s+/g, ' ').slice(0, 300))).toEqual([]);
});
