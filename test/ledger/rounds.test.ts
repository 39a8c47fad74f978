import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LINE_TRANSITIONS } from '../../src/ledger/line-states.ts';
import { reconcile, type Break } from '../../src/ledger/reconcile.ts';
import type { Database } from '../../src/ledger/schema.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { USD } from './fixture.ts';

/**
 * A round's state is kept by the database as well as by the wallet (wallet-semantics.md, rules
 * 10-14): the statements below are what a buggy service or a hurried manual fix could send, and each
 * is refused; and reconcile, which trusts neither code nor triggers, names every round invariant
 * broken behind the guards' back.
 */
const PROVIDER = ProviderId('dowinn');
let t: TestDatabase;
let round: { id: bigint; settled: bigint; open: bigint; cancelled: bigint; cancel: bigint; result: bigint };

async function run(op: Record<string, unknown>): Promise<Outcome> {
  return new Wallet(t.db).execute({ player: PlayerCode('rounds-alice'), currency: USD, provider: PROVIDER, ...op } as WalletOperation);
}

beforeAll(async () => {
  t = await createTestDatabase();
  const backOffice = new BackOffice(t.db);
  await backOffice.createPlayer(PlayerCode('rounds-alice'), [USD]);
  await backOffice.cashier('deposit', PlayerCode('rounds-alice'), USD, 10_000n, 'rounds-alice-in');
  const lines = [
    { ref: '1', amount: 1_000n },
    { ref: '2', amount: 500n },
    { ref: '3', amount: 300n },
  ];
  await run({ op: 'debit', txId: ExternalTxId('r-bet'), roundId: 'T:1', amount: 1_800n, lines });
  await run({ op: 'cancel_bets', txId: ExternalTxId('r-cancel'), roundId: 'T:1', amount: 300n, lines: [lines[2]] });
  const settled = await run({
    op: 'settle',
    txId: ExternalTxId('r-result'),
    roundId: 'T:1',
    lines: [{ ref: '1', stake: 1_000n, winloss: 1_000n }],
    totals: { stake: 1_000n, winloss: 1_000n },
  });
  expect(settled).toMatchObject({ type: 'ok', balance: 10_500n });
  const { rows } = await sql<{ ref: string; id: bigint; round_id: bigint }>`select ref, id, round_id from bet_lines order by id`.execute(t.db);
  const { rows: txs } = await sql<{ external_id: string; id: bigint }>`select external_id, id from provider_transactions`.execute(t.db);
  const tx = (ext: string) => txs.find((r) => r.external_id === ext)!.id;
  round = { id: rows[0]!.round_id, settled: rows[0]!.id, open: rows[1]!.id, cancelled: rows[2]!.id, cancel: tx('r-cancel'), result: tx('r-result') };
});
afterAll(() => t.drop());

async function failure(statement: { execute(db: TestDatabase['db']): Promise<unknown> }): Promise<string | null> {
  return statement.execute(t.db).then(
    () => null,
    (error: { message: string }) => error.message,
  );
}

describe('the database keeps the line state machine', () => {
  it('holds the transitions the wallet runs by, and nothing else', async () => {
    const rows = await t.db.selectFrom('line_transitions').select(['from_state', 'to_state']).orderBy('from_state').orderBy('to_state').execute();
    expect(rows.map((r) => [r.from_state, r.to_state])).toEqual([...LINE_TRANSITIONS].map((x) => [...x]).sort((a, b) => `${a}`.localeCompare(`${b}`)));
  });

  it('a settled line cannot be cancelled, a cancelled one cannot be settled, neither reopens while what settled it stands', async () => {
    expect(await failure(sql`update bet_lines set state = 'cancelled', winloss = null, payout = null, settled_by = null where id = ${round.settled}`)).toMatch(
      /cannot go from settled to cancelled/,
    );
    expect(await failure(sql`update bet_lines set state = 'settled', winloss = 0, payout = 300, settled_by = ${round.result} where id = ${round.cancelled}`)).toMatch(
      /cannot go from cancelled to settled/,
    );
    expect(await failure(sql`update bet_lines set state = 'open', winloss = null, payout = null, settled_by = null where id = ${round.settled}`)).toMatch(
      /reopens only when the payment that settled it is rolled back/,
    );
    expect(await failure(sql`update bet_lines set state = 'open' where id = ${round.cancelled}`)).toMatch(/cannot go from cancelled to open/);
  });

  it("a line keeps its stake, its name and its round, and is never deleted", async () => {
    expect(await failure(sql`update bet_lines set amount = 5000 where id = ${round.open}`)).toMatch(/keeps its round, name and stake/);
    expect(await failure(sql`update bet_lines set ref = '9' where id = ${round.open}`)).toMatch(/keeps its round, name and stake/);
    expect(await failure(sql`delete from bet_lines where id = ${round.open}`)).toMatch(/never deleted/);
  });

  it("a settled line pays its stake plus its win/loss, never less than nothing", async () => {
    expect(await failure(sql`update bet_lines set payout = payout + 1 where id = ${round.settled}`)).toMatch(/bet_line_settlement/);
    expect(await failure(sql`update bet_lines set winloss = -1500, payout = -500 where id = ${round.settled}`)).toMatch(/bet_line_settlement/);
  });

  it('no bet line joins a settled round', async () => {
    const debit = (await t.db.selectFrom('bet_lines').select('provider_transaction_id').where('id', '=', round.open).executeTakeFirstOrThrow()).provider_transaction_id;
    expect(await failure(sql`insert into bet_lines (provider_transaction_id, round_id, ref, amount) values (${debit}, ${round.id}, '7', 100)`)).toMatch(
      /is settled: no bet joins it/,
    );
  });

  it('a round is settled once and keeps its identity; rounds are never deleted', async () => {
    expect(await failure(sql`update rounds set settled_by = ${round.cancel} where id = ${round.id}`)).toMatch(/settled once/);
    expect(await failure(sql`update rounds set settled_by = null, settled_at = null where id = ${round.id}`)).toMatch(/settled once \(it reopens only when/);
    expect(await failure(sql`update rounds set external_id = 'T:2' where id = ${round.id}`)).toMatch(/keeps its identity/);
    expect(await failure(sql`delete from rounds where id = ${round.id}`)).toMatch(/never deleted/);
  });

  it('the transitions and the round refusals are insert-only', async () => {
    expect(await failure(sql`delete from line_transitions`)).toMatch(/insert-only/);
    expect(await failure(sql`update round_refusals set reason = 'x'`)).toBeNull(); // no rows yet: nothing to refuse
    await run({ op: 'settle', txId: ExternalTxId('r-late'), roundId: 'T:1', lines: [{ ref: '2', stake: 500n, winloss: 0n }], totals: { stake: 500n, winloss: 0n } });
    expect(await failure(sql`update round_refusals set reason = 'x'`)).toMatch(/insert-only/);
    expect(await failure(sql`delete from round_refusals`)).toMatch(/insert-only/);
  });

  it('every statement refused above left the ledger reconciled', async () => {
    expect(await reconcile(t.db)).toEqual([]);
  });
});

describe('reconcile checks the round invariants from the rows', () => {
  type Conn = Kysely<Database>;
  afterEach(async () => {
    expect(await reconcile(t.db)).toEqual([]);
  });

  async function withTriggersOff(work: (conn: Conn) => Promise<unknown>): Promise<void> {
    await t.db.connection().execute(async (conn) => {
      await sql`set session_replication_role = replica`.execute(conn);
      try {
        await work(conn);
      } finally {
        await sql`set session_replication_role = origin`.execute(conn);
      }
    });
  }

  async function breaksAfter(corrupt: (conn: Conn) => Promise<unknown>, repair: (conn: Conn) => Promise<unknown>): Promise<Break[]> {
    await withTriggersOff(corrupt);
    try {
      return await reconcile(t.db);
    } finally {
      await withTriggersOff(repair);
    }
  }
  const checks = (breaks: Break[]) => [...new Set(breaks.map((b) => b.check))].sort();

  it('a settled line claiming another result than its round paid', async () => {
    const breaks = await breaksAfter(
      (c) => sql`update bet_lines set winloss = winloss + 500, payout = payout + 500 where id = ${round.settled}`.execute(c),
      (c) => sql`update bet_lines set winloss = winloss - 500, payout = payout - 500 where id = ${round.settled}`.execute(c),
    );
    expect(breaks).toEqual([{ check: 'a settled round paid what its lines paid', detail: `round ${round.id}: paid 2000, its lines 2500` }]);
  });

  it('a line marked cancelled whose stake never came back (or both settled and cancelled)', async () => {
    const breaks = await breaksAfter(
      (c) => sql`update bet_lines set state = 'cancelled' where id = ${round.open}`.execute(c),
      (c) => sql`update bet_lines set state = 'open' where id = ${round.open}`.execute(c),
    );
    expect(checks(breaks)).toEqual(['a line is cancelled exactly when its stake was refunded (never settled and cancelled)']);
    const refunded = await breaksAfter(
      (c) => sql`update bet_lines set state = 'settled', winloss = 0, payout = 300, settled_by = ${round.result} where id = ${round.cancelled}`.execute(c),
      (c) => sql`update bet_lines set state = 'cancelled', winloss = null, payout = null, settled_by = null where id = ${round.cancelled}`.execute(c),
    );
    expect(checks(refunded)).toEqual(['a line is cancelled exactly when its stake was refunded (never settled and cancelled)', 'a settled round paid what its lines paid']);
  });

  it('a round settled by a transaction that is not a payment of its own', async () => {
    const breaks = await breaksAfter(
      (c) => sql`update rounds set settled_by = ${round.cancel} where id = ${round.id}`.execute(c),
      (c) => sql`update rounds set settled_by = ${round.result} where id = ${round.id}`.execute(c),
    );
    expect(checks(breaks)).toEqual(['a round is settled by an applied payment of its own']);
  });

  it('a round and its line still settled by a payment that was rolled back', async () => {
    const breaks = await breaksAfter(
      (c) => sql`insert into rollbacks (provider_id, target_external_id, player_id, target_id, transfer_id)
        select t.provider_id, t.external_id, t.player_id, t.id, t.transfer_id from provider_transactions t where t.id = ${round.result}`.execute(c),
      (c) => sql`delete from rollbacks where target_id = ${round.result}`.execute(c),
    );
    expect(breaks.filter((b) => b.check.startsWith('nothing stays settled'))).toEqual([
      { check: 'nothing stays settled by a payment that was rolled back (its lines are owed again)', detail: `round ${round.id}` },
      { check: 'nothing stays settled by a payment that was rolled back (its lines are owed again)', detail: `bet line ${round.settled}` },
    ]);
  });

  it('a line state machine in the database other than the one the wallet runs', async () => {
    const breaks = await breaksAfter(
      (c) => sql`insert into line_transitions values ('cancelled', 'open')`.execute(c),
      (c) => sql`delete from line_transitions where from_state = 'cancelled'`.execute(c),
    );
    expect(breaks).toEqual([
      { check: 'the line state machine in the database is the one the wallet runs', detail: 'cancelled -> open in line_transitions, not in the wallet' },
    ]);
  });

  it('a dropped round guard', async () => {
    const breaks = await breaksAfter(
      (c) => sql`alter table bet_lines disable trigger bet_lines_guard`.execute(c),
      (c) => sql`alter table bet_lines enable trigger bet_lines_guard`.execute(c),
    );
    expect(breaks).toEqual([{ check: 'ledger guards are installed and enabled', detail: 'trigger bet_lines_guard missing or disabled' }]);
  });
});

describe('rounds of many lines (the post writes up to four lines out, more from arrays)', () => {
  const bob = PlayerCode('rounds-bob');
  const bobs = (op: Record<string, unknown>) => run({ player: bob, ...op });
  const six = ['1', '2', '3', '4', '5', '6'].map((ref, i) => ({ ref, amount: 100n * BigInt(i + 1) })); // 2,100 in all
  const states = async (roundId: string) => {
    const { rows } = await sql<{ ref: string; state: string; winloss: bigint | null; payout: bigint | null }>`
      select l.ref, l.state, l.winloss, l.payout from bet_lines l join rounds r on r.id = l.round_id where r.external_id = ${roundId} order by l.ref`.execute(t.db);
    return rows.map((r) => [r.ref, r.state, r.winloss, r.payout]);
  };

  beforeAll(async () => {
    await new BackOffice(t.db).createPlayer(bob, [USD]);
    await new BackOffice(t.db).cashier('deposit', bob, USD, 100_000n, 'rounds-bob-in');
  });
  afterEach(async () => {
    expect(await reconcile(t.db)).toEqual([]);
  });

  it('a result of six lines pays each its stake plus its win/loss', async () => {
    expect(await bobs({ op: 'debit', txId: ExternalTxId('m-bet-1'), roundId: 'M:1', amount: 2_100n, lines: six })).toMatchObject({ type: 'ok', balance: 97_900n });
    const results = six.map((l, i) => ({ ref: l.ref, stake: l.amount, winloss: i % 2 === 0 ? l.amount : -l.amount }));
    const settled = await bobs({ op: 'settle', txId: ExternalTxId('m-result-1'), roundId: 'M:1', lines: results, totals: { stake: 2_100n, winloss: -300n } });
    // Lines 1, 3, 5 double their stake (200 + 600 + 1,000), lines 2, 4, 6 lose it.
    expect(settled).toMatchObject({ type: 'ok', balance: 99_700n });
    expect(await states('M:1')).toEqual(results.map((r) => [r.ref, 'settled', r.winloss, r.stake + r.winloss]));
  });

  it('a cancel of five lines refunds them, a result of the sixth pays it, and a closing win settles the rest of a round', async () => {
    expect(await bobs({ op: 'debit', txId: ExternalTxId('m-bet-2'), roundId: 'M:2', amount: 2_100n, lines: six })).toMatchObject({ type: 'ok', balance: 97_600n });
    const five = six.slice(0, 5);
    expect(await bobs({ op: 'cancel_bets', txId: ExternalTxId('m-cancel-2'), roundId: 'M:2', amount: 1_500n, lines: five })).toMatchObject({ type: 'ok', balance: 99_100n });
    expect(
      await bobs({ op: 'settle', txId: ExternalTxId('m-result-2'), roundId: 'M:2', lines: [{ ref: '6', stake: 600n, winloss: 50n }], totals: { stake: 600n, winloss: 50n } }),
    ).toMatchObject({ type: 'ok', balance: 99_750n });
    expect(await states('M:2')).toEqual([...five.map((l) => [l.ref, 'cancelled', null, null]), ['6', 'settled', 50n, 650n]]);

    expect(await bobs({ op: 'debit', txId: ExternalTxId('m-bet-3'), roundId: 'M:3', amount: 2_100n, lines: six })).toMatchObject({ type: 'ok', balance: 97_650n });
    expect(await bobs({ op: 'credit', txId: ExternalTxId('m-win-3'), roundId: 'M:3', amount: 4_000n, closes: true })).toMatchObject({ type: 'ok', balance: 101_650n });
    expect(await states('M:3')).toEqual(six.map((l) => [l.ref, 'settled', null, null]));
  });

  it('a closing win rolled back leaves its lines owed again: the bet rollback it held back is refunded with it, a new closing win settles them', async () => {
    const two = six.slice(0, 2); // 300
    expect(await bobs({ op: 'debit', txId: ExternalTxId('m-bet-4'), roundId: 'M:4', amount: 300n, lines: two })).toMatchObject({ type: 'ok', balance: 101_350n });
    expect(await bobs({ op: 'credit', txId: ExternalTxId('m-win-4'), roundId: 'M:4', amount: 500n, closes: true })).toMatchObject({ type: 'ok', balance: 101_850n });
    // Before the win is rolled back, the bet's rollback is refused: its lines are settled (rule 12).
    expect(await bobs({ op: 'rollback', target: ExternalTxId('m-bet-4') })).toMatchObject({ type: 'refused', reason: 'line_closed' });
    // The win's rollback reopens the lines, and refunds them as that refused rollback asked: the
    // voided round's bet comes back, and the player ends where the vendor's own order leaves them.
    expect(await bobs({ op: 'rollback', target: ExternalTxId('m-win-4') })).toMatchObject({ type: 'ok', balance: 101_650n });
    expect(await states('M:4')).toEqual(two.map((l) => [l.ref, 'cancelled', null, null]));
    expect(await bobs({ op: 'rollback', target: ExternalTxId('m-bet-4') })).toMatchObject({ type: 'duplicate', balance: 101_650n });

    // Or the round is played on: a new closing win settles the lines again, and pays once.
    expect(await bobs({ op: 'debit', txId: ExternalTxId('m-bet-5'), roundId: 'M:5', amount: 300n, lines: two })).toMatchObject({ type: 'ok', balance: 101_350n });
    expect(await bobs({ op: 'credit', txId: ExternalTxId('m-win-5'), roundId: 'M:5', amount: 500n, closes: true })).toMatchObject({ type: 'ok' });
    expect(await bobs({ op: 'rollback', target: ExternalTxId('m-win-5') })).toMatchObject({ type: 'ok', balance: 101_350n });
    expect(await bobs({ op: 'credit', txId: ExternalTxId('m-win-5b'), roundId: 'M:5', amount: 700n, closes: true })).toMatchObject({ type: 'ok', balance: 102_050n });
    expect(await states('M:5')).toEqual(two.map((l) => [l.ref, 'settled', null, null]));
    expect(await bobs({ op: 'rollback', target: ExternalTxId('m-bet-5') })).toMatchObject({ type: 'refused', reason: 'line_closed' });
    expect(await reconcile(t.db)).toEqual([]);
  });
});
