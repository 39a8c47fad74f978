import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import { startTestGateway, TOKENS, type TestGateway } from '../support/gateway.ts';

/**
 * Rule 5 over HTTP: simultaneous calls on one player apply in some serial order, duplicates apply once.
 * Everything goes through the real gateway (command dialect, provider scorpio-play in USD) and Postgres.
 */
const USD = asCurrency('USD');
const PROVIDER = 'scorpio-play';

let gw: TestGateway;
beforeAll(async () => {
  // These tests are about order, not deadlines: a burst of 200 calls for one player is served one at a
  // time and the last waits longer than the production lock wait (rule 9's time limit is the
  // conformance kit's "lock timeout" scenario).
  gw = await startTestGateway({ LOCK_WAIT_MS: '10000' });
});
afterAll(() => gw.close());

type Answer = { status: number; text: string; json: any };

const gameFields = { call_id: 0, provider_id: 'p', game_code: 'g', game_name: 'G', game_type: 'slot' };

const betBody = (account: string, transId: number, amount: number, round = 'r1') => ({
  command: 'bet',
  data: { account, trans_id: transId, round_id: round, ...gameFields, amount, type: 1 },
  timestamp: '1600000001',
  check: '21,22,41,31',
});
const winBody = (account: string, transId: number, amount: number, round = 'r1') => ({
  command: 'win',
  data: { account, trans_id: transId, round_id: round, ...gameFields, amount, type: 2 },
  timestamp: '1600000001',
  check: '21,22,41',
});
const cancelBody = (account: string, transId: number, round = 'r1') => ({
  command: 'cancel',
  data: { account, trans_id: transId, round_id: round, ...gameFields },
  timestamp: '1600000001',
  check: '21,22,42',
});

const send = (body: unknown): Promise<Answer> => gw.callback(PROVIDER, body);

/** The answer's balance in minor units, read from its text (never through a float). */
function answeredBalance(answer: Answer): bigint | undefined {
  const m = /"balance":(-?[0-9.eE+-]+)/.exec(answer.text);
  if (!m) return undefined;
  const parsed = parseAmount(m[1]!, USD);
  if (!parsed.ok) throw new Error(`bad balance in ${answer.text}`);
  return parsed.value;
}

async function walletBalance(account: string): Promise<bigint> {
  const { rows } = await sql<{ balance: bigint }>`
    select a.balance from accounts a join players p on p.id = a.player_id where a.kind = 'player' and p.code = ${account} and a.currency = 'USD'`.execute(gw.gateway.db);
  return rows[0]!.balance;
}

const count = (answers: Answer[], result: number) => answers.filter((a) => a.json?.result === result).length;

/** A small deterministic PRNG, so a failing run can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

let nextTransId = 1_000_000;

describe('one player, many simultaneous bets', () => {
  it('200 simultaneous bets of 1.00 on 100.00: exactly 100 pass, 100 are refused, the balance ends at 0', async () => {
    await gw.fund('conc-alice', { USD: '100.00' });
    const first = nextTransId;
    nextTransId += 200;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => send(betBody('conc-alice', first + i, 1.0, `r-${i}`))));

    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(count(answers, 0)).toBe(100);
    expect(count(answers, 31)).toBe(100);
    for (const a of answers.filter((x) => x.json?.result === 31)) expect(a.json).toEqual({ result: 31, status: 'ERROR', data: { balance: 0 } });
    expect(await walletBalance('conc-alice')).toBe(0n);

    // Every successful answer reports a distinct balance: 99.00, 98.00, ... 0.00, as a serial order would.
    const okBalances = answers.filter((a) => a.json?.result === 0).map((a) => answeredBalance(a)!);
    expect(new Set(okBalances).size).toBe(100);
    expect([...okBalances].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i) * 100n));

    const { rows } = await sql<{ transfers: number; applied: number; refused: number }>`
      select (select count(*)::int from transfers t join accounts a on a.id = t.debit_account_id join players p on p.id = a.player_id
                where p.code = 'conc-alice' and t.kind = 'bet') as transfers,
             (select count(*)::int from provider_transactions pt join players p on p.id = pt.player_id
                where p.code = 'conc-alice' and pt.status = 'applied') as applied,
             (select count(*)::int from provider_transactions pt join players p on p.id = pt.player_id
                where p.code = 'conc-alice' and pt.status = 'refused' and pt.refusal = 'insufficient_funds') as refused`.execute(gw.gateway.db);
    expect(rows[0]).toEqual({ transfers: 100, applied: 100, refused: 100 });
    expect(await gw.reconcile()).toEqual([]);
  });

  it('20 simultaneous copies of one bet are applied once: one result 0, 19 result 41', async () => {
    await gw.fund('conc-bob', { USD: '50.00' });
    const transId = nextTransId++;
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(betBody('conc-bob', transId, 7.25, 'r-dup'))));

    expect(count(answers, 0)).toBe(1);
    expect(count(answers, 41)).toBe(19);
    expect(answers.find((a) => a.json?.result === 0)!.json).toEqual({ result: 0, status: 'OK', data: { balance: 42.75 } });
    for (const a of answers.filter((x) => x.json?.result === 41)) expect(a.json).toEqual({ result: 41, status: 'ERROR', data: { balance: 42.75 } });
    expect(await walletBalance('conc-bob')).toBe(4_275n);

    const { rows } = await sql<{ rows: number; transfers: number }>`
      select count(*)::int as rows, count(transfer_id)::int as transfers from provider_transactions
      where provider_id = ${PROVIDER} and external_id = ${String(transId)}`.execute(gw.gateway.db);
    expect(rows[0]).toEqual({ rows: 1, transfers: 1 });
    expect(await gw.reconcile()).toEqual([]);
  });

  it('20 simultaneous cancels of one bet refund it once and all answer OK', async () => {
    await gw.fund('conc-carol', { USD: '10.00' });
    const transId = nextTransId++;
    expect((await send(betBody('conc-carol', transId, 4.0, 'r-c'))).json).toEqual({ result: 0, status: 'OK', data: { balance: 6 } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(cancelBody('conc-carol', transId, 'r-c'))));
    expect(answers.map((a) => a.json)).toEqual(Array.from({ length: 20 }, () => ({ result: 0, status: 'OK', data: { balance: 10 } })));
    expect(await walletBalance('conc-carol')).toBe(1_000n);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from rollbacks r join transfers t on t.id = r.transfer_id
      where r.provider_id = ${PROVIDER} and r.target_external_id = ${String(transId)}`.execute(gw.gateway.db);
    expect(rows[0]!.n).toBe(1);
    expect(await gw.reconcile()).toEqual([]);
  });

  it('bets spread over two gateway instances on one database still apply in a serial order', async () => {
    // A second gateway process on the same database: its own pool, its own house-account cache.
    const second: Gateway = createGateway(gw.config, createLogger('silent'));
    const server = await second.listen(0, '127.0.0.1');
    try {
      const secondUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks/${PROVIDER}`;
      const viaSecond = async (body: unknown): Promise<Answer> => {
        const res = await fetch(secondUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'callback-token': TOKENS[PROVIDER] },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, text, json: JSON.parse(text) };
      };
      await gw.fund('conc-dave', { USD: '30.00' });
      const first = nextTransId;
      nextTransId += 60;
      // 60 bets of 1.00 on 30.00, alternating between the two instances; each one sent to both (a duplicate).
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => [send(betBody('conc-dave', first + i, 1.0)), viaSecond(betBody('conc-dave', first + i, 1.0))]).flat(),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(count(answers, 0)).toBe(30);
      expect(count(answers, 0) + count(answers, 31) + count(answers, 41)).toBe(120);
      for (let i = 0; i < 60; i++) {
        const pair = [answers[2 * i]!, answers[2 * i + 1]!].map((a) => a.json.result);
        // One copy decides; the other is its repeat: OK then 41, or 31 twice (a refusal replays).
        expect([[0, 41], [41, 0], [31, 31]]).toContainEqual(pair);
      }
      expect(await walletBalance('conc-dave')).toBe(0n);
      expect(await gw.reconcile()).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe('many players, mixed simultaneous bets, wins and cancels', () => {
  it('end with the balances a serial replay of the successful answers gives, and a clean ledger', async () => {
    const random = prng(20261120);
    const players = Array.from({ length: 6 }, (_, i) => `mix-${i}`);
    // 10.00 each: most of the wins are refused for want of a stake, so this keeps a mix of bets that
    // pass and bets refused for funds.
    const initial = 1000n;
    for (const p of players) await gw.fund(p, { USD: '10.00' });

    type Call = { player: string; kind: 'bet' | 'win' | 'cancel'; transId: number; amount: bigint; round: string; target?: { transId: number; kind: 'bet' | 'win' }; body: unknown };
    const calls: Call[] = [];
    const cents = (max: number) => BigInt(Math.floor(random() * max));
    const decimal = (minor: bigint) => Number(minor) / 100; // exact for 2-decimal values
    for (const player of players) {
      const bets: { transId: number; amount: bigint; round: string }[] = [];
      const wins: { transId: number; amount: bigint; round: string }[] = [];
      for (let i = 0; i < 25; i++) {
        const transId = nextTransId++;
        const amount = 25n + cents(400);
        const round = `mr-${transId}`;
        bets.push({ transId, amount, round });
        calls.push({ player, kind: 'bet', transId, amount, round, body: betBody(player, transId, decimal(amount), round) });
      }
      for (let i = 0; i < 15; i++) {
        const transId = nextTransId++;
        const amount = i % 5 === 0 ? 0n : cents(500);
        // A win pays only on a round that holds a stake. Most land on the round of one of the player's
        // bets, which may not be there yet, be refused or be (or get) cancelled; every fifth on a round
        // that no bet ever takes.
        const round = i % 5 === 4 ? `mr-${transId}` : bets[i]!.round;
        wins.push({ transId, amount, round });
        calls.push({ player, kind: 'win', transId, amount, round, body: winBody(player, transId, decimal(amount), round) });
      }
      // Duplicates of some bets and wins, sent alongside the originals.
      for (const b of bets.slice(0, 4)) calls.push({ player, kind: 'bet', ...b, body: betBody(player, b.transId, decimal(b.amount), b.round) });
      for (const w of wins.slice(0, 3)) calls.push({ player, kind: 'win', ...w, body: winBody(player, w.transId, decimal(w.amount), w.round) });
      // Cancels of bets (two of them twice) and of wins; some will race ahead of their target.
      for (const b of [...bets.slice(2, 10), ...bets.slice(2, 4)]) {
        calls.push({ player, kind: 'cancel', transId: b.transId, amount: 0n, round: b.round, target: { transId: b.transId, kind: 'bet' }, body: cancelBody(player, b.transId, b.round) });
      }
      for (const w of wins.slice(1, 6)) {
        calls.push({ player, kind: 'cancel', transId: w.transId, amount: 0n, round: w.round, target: { transId: w.transId, kind: 'win' }, body: cancelBody(player, w.transId, w.round) });
      }
    }

    const order = shuffle(calls, random);
    const answers = await Promise.all(order.map((c) => send(c.body)));
    const results = order.map((call, i) => ({ call, answer: answers[i]! }));

    // Every answer is a dialect answer the operation allows, never a processing failure.
    // A win is answered 42 when its round holds no stake, and a bet's cancel 99 when a win paid on its
    // round stands on that bet alone (both checked against the serial order below).
    const allowed = { bet: [0, 31, 41], win: [0, 41, 42], cancel: [0, 31, 42, 99] };
    for (const { call, answer } of results) {
      expect(answer.status).toBe(200);
      expect(allowed[call.kind], `${call.kind} ${call.transId}: ${answer.text}`).toContain(answer.json?.result);
    }

    const byKey = new Map<string, { call: Call; answer: Answer }[]>();
    for (const r of results) {
      const key = `${r.call.kind}:${r.call.transId}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    const answersFor = (kind: string, transId: number) => (byKey.get(`${kind}:${transId}`) ?? []).map((r) => r.answer.json.result as number);

    // A serial computation from the successful answers.
    const expected = new Map(players.map((p) => [p, initial]));
    const add = (player: string, delta: bigint) => expected.set(player, expected.get(player)! + delta);
    for (const [key, group] of byKey) {
      const { call } = group[0]!;
      const codes = group.map((g) => g.answer.json.result as number);
      if (call.kind === 'bet' || call.kind === 'win') {
        expect(codes.filter((c) => c === 0).length, key).toBeLessThanOrEqual(1);
        if (codes.includes(0)) add(call.player, call.kind === 'bet' ? -call.amount : call.amount);
        continue;
      }
      const target = call.target!;
      const targetCodes = answersFor(target.kind, target.transId);
      const targetAmount = calls.find((c) => c.kind === target.kind && c.transId === target.transId)!.amount;
      if (codes.includes(42)) {
        // The cancel came first: the target was never applied (refused as already settled, 41, or a
        // win refused before it for want of a stake, 42: the serial check below tells which when).
        expect(targetCodes.every((c) => c === 41 || (target.kind === 'win' && c === 42)), key).toBe(true);
        expect(codes.every((c) => c === 42), key).toBe(true);
      } else if (codes.includes(0) && targetCodes.includes(0)) {
        add(call.player, target.kind === 'bet' ? targetAmount : -targetAmount);
      }
    }
    // The round rules in the serial order. Every call is kept in the webhook history inside its own
    // wallet transaction, which holds the player's wallet row: a player's history ids are the order the
    // wallet applied that player's calls in. Replayed in that order, a win is paid (0) exactly when its
    // round holds a live stake (a bet applied there and not cancelled yet) and refused 42 when it does
    // not; a win already paid, or whose cancel came first, is answered 41.
    const callOf = new Map(calls.map((c) => [`${c.kind}:${c.transId}`, c]));
    const kindOf: Record<string, Call['kind']> = { debit: 'bet', credit: 'win', rollback: 'cancel' };
    const wins = { paid: 0, stakeless: 0, held: 0 };
    for (const p of players) {
      const rows = await gw.gateway.db
        .selectFrom('webhooks')
        .select(['id', 'transaction_id', 'operation', 'answer'])
        .where('provider_id', '=', PROVIDER)
        .where('player_code', '=', p)
        .orderBy('id')
        .execute();
      // One row per call, with the answer that call got.
      const sent = results.filter((r) => r.call.player === p);
      const keyed = (kind: string, transId: string | number | null, answer: string | null) => `${kind}:${transId} ${answer}`;
      expect(rows.map((r) => keyed(kindOf[(r.operation as { op: string }).op]!, r.transaction_id, r.answer)).sort(), p).toEqual(
        sent.map((r) => keyed(r.call.kind, r.call.transId, r.answer.text)).sort(),
      );
      const live = new Map<string, number>(); // round -> bets applied on it and not cancelled (yet)
      const liveBets = new Set<number>();
      const paid = new Set<number>();
      const standing = new Map<string, Set<number>>(); // round -> wins of more than 0 paid on it and not cancelled
      const heldBack = new Map<string, Set<number>>(); // round -> bets whose cancel was refused while a win stood on them alone
      const cancelledFirst = new Set<number>(); // wins whose cancel came before them
      for (const row of rows) {
        const kind = kindOf[(row.operation as { op: string }).op]!;
        const call = callOf.get(`${kind}:${row.transaction_id}`)!;
        const code = JSON.parse(row.answer!).result as number;
        if (kind === 'bet') {
          if (code === 0) {
            liveBets.add(call.transId);
            live.set(call.round, (live.get(call.round) ?? 0) + 1);
          }
        } else if (kind === 'cancel') {
          const target = call.target!;
          if (target.kind === 'bet' && liveBets.has(target.transId)) {
            const alone = live.get(call.round) === 1 && (standing.get(call.round)?.size ?? 0) > 0;
            expect(code, `${p} cancel of bet ${target.transId} on ${call.round} (webhook ${row.id}): ${row.answer}`).toBe(alone ? 99 : 0);
            if (alone) {
              wins.held++;
              heldBack.set(call.round, (heldBack.get(call.round) ?? new Set()).add(target.transId));
            }
          }
          if (target.kind === 'bet' && code === 0 && liveBets.delete(target.transId)) live.set(call.round, live.get(call.round)! - 1);
          if (target.kind === 'win' && code === 0 && standing.get(call.round)?.delete(target.transId)) {
            // The win's cancel refunds the bets it held back (their cancels refused 99) that no win now stands on alone.
            for (const bet of heldBack.get(call.round) ?? []) {
              if ((standing.get(call.round)?.size ?? 0) > 0 && live.get(call.round) === 1) continue;
              if (!liveBets.delete(bet)) continue;
              heldBack.get(call.round)!.delete(bet);
              live.set(call.round, live.get(call.round)! - 1);
              // Counted above only when a cancel of it was answered 0 (a retry that found it done).
              if (!answersFor('cancel', bet).includes(0)) add(p, calls.find((c) => c.kind === 'bet' && c.transId === bet)!.amount);
            }
          }
          if (target.kind === 'win' && code === 42) cancelledFirst.add(target.transId);
        } else {
          const staked = (live.get(call.round) ?? 0) > 0;
          const expectedCode = paid.has(call.transId) || cancelledFirst.has(call.transId) ? 41 : staked ? 0 : 42;
          expect(code, `${p} win ${call.transId} on ${call.round} (webhook ${row.id}): ${row.answer}`).toBe(expectedCode);
          if (code === 0) {
            paid.add(call.transId);
            wins.paid++;
            if (call.amount > 0n) standing.set(call.round, (standing.get(call.round) ?? new Set()).add(call.transId));
          }
          if (code === 42) wins.stakeless++;
        }
      }
    }
    for (const p of players) expect(await walletBalance(p), p).toBe(expected.get(p));
    // The run took both paths of the rule.
    expect(wins.paid).toBeGreaterThan(0);
    expect(wins.stakeless).toBeGreaterThan(0);

    // Each player's transfers, in id order, are that serial order: every moving answer reports the
    // running balance right after its own transfer, and every answered balance is one of the running balances.
    for (const p of players) {
      const { rows } = await sql<{ id: bigint; delta: bigint; ptx: string | null; rb: string | null }>`
        select t.id, case when t.credit_account_id = a.id then t.amount else -t.amount end as delta,
               pt.kind || ':' || pt.external_id as ptx, 'cancel:' || r.target_external_id as rb
        from accounts a join players pl on pl.id = a.player_id
        join transfers t on t.debit_account_id = a.id or t.credit_account_id = a.id
        left join provider_transactions pt on pt.transfer_id = t.id
        left join rollbacks r on r.transfer_id = t.id
        where pl.code = ${p} and a.kind = 'player' order by t.id`.execute(gw.gateway.db);
      let running = 0n;
      const after = new Map<string, bigint>();
      const seen = new Set<bigint>([0n]);
      for (const row of rows) {
        running += row.delta;
        seen.add(running);
        const key = row.ptx ? row.ptx.replace(/^debit:/, 'bet:').replace(/^credit:/, 'win:') : row.rb;
        if (key) after.set(key, running);
      }
      expect(running).toBe(expected.get(p));
      for (const [key, balance] of after) {
        const group = byKey.get(key);
        expect(group, key).toBeDefined();
        const okBalances = group!.filter((g) => g.answer.json.result === 0).map((g) => answeredBalance(g.answer));
        expect(okBalances, `${p} ${key}`).toContain(balance);
      }
      for (const { call, answer } of results.filter((r) => r.call.player === p)) {
        const b = answeredBalance(answer);
        if (b !== undefined) expect(seen.has(b), `${call.kind} ${call.transId} answered ${b}`).toBe(true);
      }
    }
    expect(await gw.reconcile()).toEqual([]);
  });
});
