import { randomBytes } from 'node:crypto';
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
 * The round-state migration on a ledger that earlier releases filled: rounds get their state from
 * their history. The rows below are what the wallet wrote before rounds had a state (the event
 * dialect's itemised rounds paid by a result and corrected by result changes, line cancels; the
 * command dialect's whole bets, wins and rollbacks), written the way it wrote them.
 */
const USD = asCurrency('USD');
const EVENT = ProviderId('dowinn');
const COMMAND = ProviderId('scorpio-play');
const BEFORE = '2026-12-02T0001_provider_users';

let t: TestDatabase;
let db: Db;
let player: bigint;
let wallet: bigint;
const game: Record<string, bigint> = {};

/** A transfer, moved by the ledger's own trigger. */
async function transfer(from: bigint, to: bigint, amount: bigint, kind: string): Promise<bigint> {
  const { rows } = await sql<{ id: bigint }>`insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
    values (${from}, ${to}, ${amount}, 'USD', ${kind}) returning id`.execute(db);
  return rows[0]!.id;
}

async function round(provider: string, external: string): Promise<bigint> {
  const { rows } = await sql<{ id: bigint }>`insert into rounds (provider_id, external_id, player_id, currency)
    values (${provider}, ${external}, ${player}, 'USD') returning id`.execute(db);
  return rows[0]!.id;
}

/** A provider transaction as the earlier wallet recorded it, with the transfer it moved. */
async function tx(
  provider: string,
  external: string,
  kind: 'debit' | 'credit' | 'refund' | 'adjust',
  roundId: bigint | null,
  amount: bigint,
  moved: { amount: bigint; kind: string; toPlayer: boolean } | 'refused',
): Promise<bigint> {
  const transferId = moved === 'refused' ? null : moved.toPlayer ? await transfer(game[provider]!, wallet, moved.amount, moved.kind) : await transfer(wallet, game[provider]!, moved.amount, moved.kind);
  const { rows } = await sql<{ id: bigint }>`insert into provider_transactions
      (provider_id, external_id, player_id, kind, currency, amount, round_id, status, refusal, transfer_id)
    values (${provider}, ${external}, ${player}, ${kind}, 'USD', ${amount}, ${roundId},
      ${moved === 'refused' ? 'refused' : 'applied'}, ${moved === 'refused' ? 'insufficient_funds' : null}, ${transferId})
    returning id`.execute(db);
  return rows[0]!.id;
}

async function lines(debit: bigint, roundId: bigint, stakes: Record<string, bigint>): Promise<Record<string, bigint>> {
  const ids: Record<string, bigint> = {};
  for (const [ref, amount] of Object.entries(stakes)) {
    const { rows } = await sql<{ id: bigint }>`insert into bet_lines (provider_transaction_id, round_id, ref, amount)
      values (${debit}, ${roundId}, ${ref}, ${amount}) returning id`.execute(db);
    ids[ref] = rows[0]!.id;
  }
  return ids;
}

const bet = (provider: string, external: string, roundId: bigint, amount: bigint) => tx(provider, external, 'debit', roundId, amount, { amount, kind: 'bet', toPlayer: false });
const win = (provider: string, external: string, roundId: bigint, amount: bigint) => tx(provider, external, 'credit', roundId, amount, { amount, kind: 'win', toPlayer: true });

async function state(provider: string, external: string) {
  const { rows } = await sql<{ settled: boolean; lines: string | null }>`
    select r.settled_by is not null as settled,
      (select string_agg(l.ref || '=' || l.state || ':' || coalesce(l.winloss::text, '?') || ':' || coalesce(l.payout::text, '?'), ' ' order by l.id)
       from bet_lines l where l.round_id = r.id) as lines
    from rounds r where r.provider_id = ${provider} and r.external_id = ${external} and r.player_id = ${player}`.execute(db);
  return rows[0];
}

beforeAll(async () => {
  t = await migratedTo(BEFORE);
  db = t.db;

  const backOffice = new BackOffice(db);
  const created = await backOffice.createPlayer(PlayerCode('legacy'), [USD]);
  if (!created.ok) throw new Error(created.reason);
  if (!(await backOffice.cashier('deposit', PlayerCode('legacy'), USD, 100_000n, 'legacy-deposit')).ok) throw new Error('deposit');
  const { rows } = await sql<{ player: bigint; wallet: bigint }>`
    select p.id as player, a.id as wallet from players p join accounts a on a.player_id = p.id where p.code = 'legacy'`.execute(db);
  [player, wallet] = [rows[0]!.player, rows[0]!.wallet];
  for (const provider of [EVENT, COMMAND]) {
    const { rows: g } = await sql<{ id: bigint }>`insert into accounts (kind, provider_id, currency, slot) values ('game', ${provider}, 'USD', 0) returning id`.execute(db);
    game[provider] = g[0]!.id;
  }

  // E1: one line of 10.00, paid 19.50 by its result.
  const e1 = await round(EVENT, 'T1:1');
  await lines(await bet(EVENT, 'e1-bet', e1, 1_000n), e1, { '1': 1_000n });
  await win(EVENT, 'e1-result', e1, 1_950n);

  // E2: two lines, paid 20.00; the vendor's per-line figures are in the webhook history (10.00 and -5.00).
  const e2 = await round(EVENT, 'T1:2');
  await lines(await bet(EVENT, 'e2-bet', e2, 1_500n), e2, { '1': 1_000n, '2': 500n });
  await win(EVENT, 'e2-result', e2, 2_000n);
  await sql`insert into webhooks (capture_id, provider_id, received_at, source, headers, body, payload, transaction_id, outcome, duration_ms)
    values (gen_random_uuid(), ${EVENT}, now(), 'vendor', '{}', '\\x00',
      ${'{"event_type":"bet_result","data":{"bet_results":[{"bet_index":1,"bet_amount":10,"winloss":10.00},{"bet_index":"2","bet_amount":5,"winloss":-5}]}}'}::jsonb,
      'e2-result', 'ok', 1)`.execute(db);

  // E3: two lines paid 15.00, with no history left to say how.
  const e3 = await round(EVENT, 'T1:3');
  await lines(await bet(EVENT, 'e3-bet', e3, 2_000n), e3, { '1': 1_000n, '2': 1_000n });
  await win(EVENT, 'e3-result', e3, 1_500n);

  // E4: two lines, line 2 cancelled (refunded), line 1 paid 30.00.
  const e4 = await round(EVENT, 'T1:4');
  const e4lines = await lines(await bet(EVENT, 'e4-bet', e4, 2_000n), e4, { '1': 1_000n, '2': 1_000n });
  const cancel = await tx(EVENT, 'e4-cancel', 'refund', e4, 1_000n, { amount: 1_000n, kind: 'bet_refund', toPlayer: true });
  await sql`insert into line_cancels (provider_id, round_external_id, ref, player_id, line_id, cancel_id)
    values (${EVENT}, 'T1:4', '2', ${player}, ${e4lines['2']!}, ${cancel})`.execute(db);
  await win(EVENT, 'e4-result', e4, 3_000n);

  // E5: one line of 10.00 paid 20.00, then changed to a loss (20.00 taken back).
  const e5 = await round(EVENT, 'T1:5');
  await lines(await bet(EVENT, 'e5-bet', e5, 1_000n), e5, { '1': 1_000n });
  await win(EVENT, 'e5-result', e5, 2_000n);
  await tx(EVENT, 'e5-change', 'adjust', e5, 0n, { amount: 2_000n, kind: 'adjustment', toPlayer: false });

  // E6: bet, no result yet.
  const e6 = await round(EVENT, 'T1:6');
  await lines(await bet(EVENT, 'e6-bet', e6, 700n), e6, { '1': 700n });

  // C1: a whole bet and a win. C2: a bet rolled back. C3: a bet refused for funds.
  const c1 = await round(COMMAND, 'c-1');
  await bet(COMMAND, '9001', c1, 500n);
  await win(COMMAND, '9002', c1, 800n);
  const c2 = await round(COMMAND, 'c-2');
  const c2bet = await bet(COMMAND, '9003', c2, 400n);
  const refund = await transfer(game[COMMAND]!, wallet, 400n, 'bet_refund');
  await sql`insert into rollbacks (provider_id, target_external_id, player_id, target_id, transfer_id)
    values (${COMMAND}, '9003', ${player}, ${c2bet}, ${refund})`.execute(db);
  const c3 = await round(COMMAND, 'c-3');
  await tx(COMMAND, '9004', 'debit', c3, 999_999n, 'refused');

  expect(await migrateToLatest(db)).toContain('2026-12-03T0001_round_states');
});

afterAll(() => t?.drop());

describe('rounds already in the ledger get their state from their history', () => {
  it('leaves a ledger that reconciles, the new round invariants included', async () => {
    expect(await reconcile(db)).toEqual([]);
  });

  it('a one-line round a result paid: settled, its win/loss what it paid less its stake', async () => {
    expect(await state(EVENT, 'T1:1')).toEqual({ settled: true, lines: '1=settled:950:1950' });
  });

  it("several lines: the vendor's per-line figures from the webhook history, when they add up", async () => {
    expect(await state(EVENT, 'T1:2')).toEqual({ settled: true, lines: '1=settled:1000:2000 2=settled:-500:0' });
  });

  it('several lines and no history: settled, per-line win/loss unknown', async () => {
    expect(await state(EVENT, 'T1:3')).toEqual({ settled: true, lines: '1=settled:?:? 2=settled:?:?' });
  });

  it('a line refunded by a line cancel is cancelled; the line the result paid is settled', async () => {
    expect(await state(EVENT, 'T1:4')).toEqual({ settled: true, lines: '1=settled:2000:3000 2=cancelled:?:?' });
  });

  it('a round whose result was changed: settled at what it paid after the change', async () => {
    expect(await state(EVENT, 'T1:5')).toEqual({ settled: true, lines: '1=settled:-1000:0' });
  });

  it('a round with no result is open', async () => {
    expect(await state(EVENT, 'T1:6')).toEqual({ settled: false, lines: '1=open:?:?' });
  });

  it("whole bets become one line each: open, cancelled when rolled back, none for a refused bet; wins never settle them", async () => {
    expect(await state(COMMAND, 'c-1')).toEqual({ settled: false, lines: '9001=open:?:?' });
    expect(await state(COMMAND, 'c-2')).toEqual({ settled: false, lines: '9003=cancelled:?:?' });
    expect(await state(COMMAND, 'c-3')).toEqual({ settled: false, lines: null });
  });

  describe('and the round rules hold on them from then on', () => {
    const w = () => new Wallet(db);
    const event = (op: Record<string, unknown>) =>
      w().execute({ player: PlayerCode('legacy'), currency: USD, provider: EVENT, txId: ExternalTxId(`new-${randomBytes(4).toString('hex')}`), ...op } as WalletOperation);
    const command = (op: Record<string, unknown>) =>
      w().execute({ player: PlayerCode('legacy'), currency: USD, provider: COMMAND, txId: ExternalTxId(`new-${randomBytes(4).toString('hex')}`), ...op } as WalletOperation);

    it('no bet joins a settled round; no second result pays it', async () => {
      expect(await event({ op: 'debit', roundId: 'T1:1', amount: 100n, lines: [{ ref: '2', amount: 100n }] })).toMatchObject({ type: 'refused', reason: 'round_settled' });
      const result = { op: 'settle', roundId: 'T1:1', lines: [{ ref: '1', stake: 1_000n, winloss: 5_000n }], totals: { stake: 1_000n, winloss: 5_000n } };
      expect(await event(result)).toMatchObject({ type: 'refused', reason: 'round_settled' });
    });

    it('a change applies to the per-line results the history gave', async () => {
      const change = {
        op: 'adjust',
        roundId: 'T1:2',
        lines: [{ ref: '2', stake: 500n, winloss: 500n, winlossBefore: -500n }],
        totals: { stake: 500n, winloss: 500n, winlossBefore: -500n },
      };
      expect(await event(change)).toMatchObject({ type: 'ok', moved: true });
      expect(await state(EVENT, 'T1:2')).toEqual({ settled: true, lines: '1=settled:1000:2000 2=settled:500:1000' });
    });

    it('a change of lines whose results the history lost is refused, not guessed', async () => {
      const change = { op: 'adjust', roundId: 'T1:3', lines: [{ ref: '1', stake: 1_000n, winloss: 0n }], totals: { stake: 1_000n, winloss: 0n, winlossBefore: 500n } };
      expect(await event(change)).toMatchObject({ type: 'refused', reason: 'stale_change' });
    });

    it('an open round settles as any other', async () => {
      const result = { op: 'settle', roundId: 'T1:6', lines: [{ ref: '1', stake: 700n, winloss: 700n }], totals: { stake: 700n, winloss: 700n } };
      expect(await event(result)).toMatchObject({ type: 'ok' });
      expect(await state(EVENT, 'T1:6')).toEqual({ settled: true, lines: '1=settled:700:1400' });
    });

    it('a win on a whole bet still open is paid; on a rolled-back or refused one, not', async () => {
      expect(await command({ op: 'credit', roundId: 'c-1', amount: 100n })).toMatchObject({ type: 'ok' });
      expect(await command({ op: 'credit', roundId: 'c-2', amount: 100n })).toMatchObject({ type: 'refused', reason: 'no_stake' });
      expect(await command({ op: 'credit', roundId: 'c-3', amount: 100n })).toMatchObject({ type: 'refused', reason: 'no_stake' });
    });

    it('a rollback of a migrated whole bet refunds its line (with the last win paid on it rolled back)', async () => {
      expect(await w().execute({ op: 'rollback', player: PlayerCode('legacy'), currency: USD, provider: COMMAND, target: ExternalTxId('9001') })).toMatchObject({ type: 'refused', reason: 'win_stands' });
      const wins = await db.selectFrom('provider_transactions as t').innerJoin('rounds as r', 'r.id', 't.round_id').select('t.external_id').where('r.external_id', '=', 'c-1').where('t.kind', '=', 'credit').execute();
      expect(wins).toHaveLength(2);
      for (const win of wins) {
        expect(await w().execute({ op: 'rollback', player: PlayerCode('legacy'), currency: USD, provider: COMMAND, target: ExternalTxId(win.external_id) })).toMatchObject({ type: 'ok', moved: true });
      }
      // The last win's rollback refunded the bet, as its refused rollback asked: a repeat finds it done.
      expect(await w().execute({ op: 'rollback', player: PlayerCode('legacy'), currency: USD, provider: COMMAND, target: ExternalTxId('9001') })).toMatchObject({ type: 'duplicate' });
      expect(await state(COMMAND, 'c-1')).toEqual({ settled: false, lines: '9001=cancelled:?:?' });
      expect(await reconcile(db)).toEqual([]);
    });
  });
});
