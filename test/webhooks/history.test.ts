import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCaptureId, type WebhookRow } from '../../src/webhooks/history.ts';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import { TOKENS, type TestGateway, startTestGateway } from '../support/gateway.ts';
import { eventually, queue } from './helpers.ts';

/**
 * The webhook history (wallet-semantics.md, "Webhook history"): every call is kept once, as it arrived
 * (raw body, headers with every credential redacted) with what it meant and what was answered;
 * searchable; purged past the retention.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ WEBHOOK_RETENTION_DAYS: '7' });
  await gw.fund('hi', { USD: '10' });
  await gw.fund('hi_ev', { USD: '10' });
});
afterAll(() => gw?.close());

const SCORPIO = 'scorpio-play';
const WRONG_TOKEN = 'wrong-token-that-must-not-be-kept';
const BEARER = 'Bearer some-vendor-jwt-that-must-not-be-kept';
const all = () => gw.gateway.db.selectFrom('webhooks').selectAll().orderBy('id').execute();

interface Sent {
  body: Buffer;
  answer: string;
}

/** Sends one raw command-dialect body; returns what went out and what came back. */
async function post(body: string | Buffer, headers: Record<string, string> = {}): Promise<Sent> {
  const res = await gw.callback(SCORPIO, body, headers);
  expect(res.status).toBe(200);
  return { body: Buffer.from(body), answer: res.text };
}

describe('every callback', () => {
  const win = command.transId();
  const sent: Record<string, Sent> = {};
  let rows: WebhookRow[];
  let started: Date;

  beforeAll(async () => {
    started = new Date();
    // A win pays only on a round that holds a stake: the bet first, then the win on its round.
    sent.bet = await post(JSON.stringify(command.bet('hi', command.transId(), 1, { round: 'r-hi' })));
    sent.ok = await post(JSON.stringify(command.win('hi', win, 2.5, { round: 'r-hi' })), { authorization: BEARER });
    sent.duplicate = await post(JSON.stringify(command.win('hi', win, 2.5, { round: 'r-hi' })));
    sent.refused = await post(JSON.stringify(command.bet('hi', command.transId(), 100)));
    // Refused under the round rules: a win on a round that took no stake.
    sent.stakeless = await post(JSON.stringify(command.win('hi', command.transId(), 1)));
    sent.forged = await post(JSON.stringify(command.win('hi', command.transId(), 1000)), { 'callback-token': WRONG_TOKEN });
    sent.malformed = await post('{"command": "win", "data": [');
    sent.oversize = await post(`{"pad":"${'x'.repeat(70 * 1024)}"}`);
    const login = ev.event('login', 'hi_ev');
    const reply = await ev.send(gw, login);
    expect(reply.answer.code).toBe('R0');
    sent.event = { body: Buffer.from(await ev.codecFor(ev.DOWINN.apiKey).encrypt(JSON.stringify(login))), answer: reply.raw };
    rows = await all();
  });

  it('leaves exactly one row each, in order, with its outcome and the answer sent', async () => {
    expect(rows.map((r) => [r.provider_id, r.source, r.outcome])).toEqual([
      [SCORPIO, 'vendor', 'ok'],
      [SCORPIO, 'vendor', 'ok'],
      [SCORPIO, 'vendor', 'duplicate'],
      [SCORPIO, 'vendor', 'refused'],
      [SCORPIO, 'vendor', 'refused'],
      [SCORPIO, 'vendor', 'rejected'],
      [SCORPIO, 'vendor', 'rejected'],
      [SCORPIO, 'vendor', 'rejected'],
      [ev.DOWINN.id, 'vendor', 'ok'],
    ]);
    const answers = [sent.bet, sent.ok, sent.duplicate, sent.refused, sent.stakeless, sent.forged, sent.malformed, sent.oversize].map((s) => s!.answer);
    expect(rows.slice(0, 8).map((r) => r.answer)).toEqual(answers);
    expect(answers).toEqual([
      command.ok('9'),
      command.ok('11.5'),
      command.withBalance(41, '11.5'),
      command.withBalance(31, '11.5'),
      command.withBalance(42, '11.5'),
      command.bare(100),
      command.bare(99),
      command.bare(99),
    ]);
    for (const row of rows) {
      expect(row.received_at.getTime()).toBeGreaterThanOrEqual(started.getTime() - 5);
      expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      expect(row.duration_ms).toBeLessThan(2000);
      expect(row.resolved_at).toBeNull();
    }
  });

  it('keeps the raw body as received, the decoded payload and the wallet operation', async () => {
    const [bet, ok, duplicate, refused, stakeless, forged, malformed, oversize, event] = rows;
    expect(bet!.body.equals(sent.bet!.body)).toBe(true);
    expect(bet!.operation).toMatchObject({ op: 'debit', provider: SCORPIO, amount: '100', player: 'hi', currency: 'USD', roundId: 'r-hi' });
    expect(ok!.body.equals(sent.ok!.body)).toBe(true);
    expect(ok!.payload).toEqual(JSON.parse(sent.ok!.body.toString()));
    expect(ok!.operation).toMatchObject({ op: 'credit', provider: SCORPIO, txId: String(win), amount: '250', player: 'hi', currency: 'USD' });
    expect([ok!.player_code, ok!.transaction_id, ok!.detail]).toEqual(['hi', String(win), null]);
    expect(duplicate!.body.equals(sent.duplicate!.body)).toBe(true);
    expect(refused).toMatchObject({ detail: 'insufficient_funds', player_code: 'hi' });
    expect((refused!.operation as { op: string }).op).toBe('debit');
    // A refusal under the round rules says why, after its reason.
    expect(stakeless!.body.equals(sent.stakeless!.body)).toBe(true);
    expect(stakeless).toMatchObject({ detail: 'no_stake: the round took no stake', player_code: 'hi' });
    expect((stakeless!.operation as { op: string }).op).toBe('credit');
    // Refused at the door: kept as it came, never decoded.
    expect(forged!.body.equals(sent.forged!.body)).toBe(true);
    expect(forged).toMatchObject({ payload: null, operation: null, detail: expect.stringMatching(/^unauthorized: /) });
    expect(malformed!.body.toString()).toBe('{"command": "win", "data": [');
    expect(malformed).toMatchObject({ payload: null, operation: null, detail: expect.stringMatching(/^malformed: body: .*JSON/) });
    // Over BODY_LIMIT: never read, so kept without its body; its size shows in content-length.
    expect(oversize).toMatchObject({ payload: null, operation: null, detail: expect.stringMatching(/BODY_LIMIT/) });
    expect(oversize!.body.length).toBe(0);
    expect(Number((oversize!.headers as Record<string, string>)['content-length'])).toBe(sent.oversize!.body.length);
    // The event dialect: the ciphertext as sent, the payload decrypted.
    expect(event!.body.toString()).toBe(sent.event!.body.toString());
    expect(event!.payload).toMatchObject({ event_type: 'login', user_id: 'hi_ev' });
    expect(event).toMatchObject({ player_code: 'hi_ev', answer: sent.event!.answer });
    expect((event!.operation as { op: string }).op).toBe('session');
  });

  it('keeps credential headers by name only: Callback-Token, Api-Key and Authorization read [redacted]', async () => {
    const headers = rows.map((r) => r.headers as Record<string, string>);
    for (const h of headers.slice(0, 8)) expect(h['callback-token']).toBe('[redacted]');
    expect(headers[1]!.authorization).toBe('[redacted]');
    expect(headers[8]!['api-key']).toBe('[redacted]');
    expect(headers[1]!['content-type']).toBe('application/json');
    const stored = JSON.stringify(rows.map((r) => [r.headers, r.payload, r.operation, r.detail, r.answer]));
    for (const secret of [TOKENS[SCORPIO], WRONG_TOKEN, BEARER.slice(7), ev.DOWINN.apiKey]) expect(stored).not.toContain(secret);
  });

  it('is searchable by provider, player, transaction id, outcome and time window', async () => {
    const { history } = gw.gateway;
    const ids = (found: WebhookRow[]) => found.map((r) => r.id);
    const [bet, ok, duplicate, refused, stakeless, forged, malformed, oversize, event] = rows.map((r) => r.id);
    expect(ids(await history.search({ provider: ev.DOWINN.id, limit: 50 }))).toEqual([event]);
    expect(ids(await history.search({ provider: SCORPIO, limit: 50 }))).toEqual([oversize, malformed, forged, stakeless, refused, duplicate, ok, bet]);
    expect(ids(await history.search({ player: 'hi', limit: 50 }))).toEqual([stakeless, refused, duplicate, ok, bet]);
    expect(ids(await history.search({ transactionId: String(win), limit: 50 }))).toEqual([duplicate, ok]);
    expect(ids(await history.search({ outcomes: ['rejected', 'refused'], limit: 50 }))).toEqual([oversize, malformed, forged, stakeless, refused]);
    expect(ids(await history.search({ provider: SCORPIO, outcomes: ['ok'], player: 'hi', limit: 50 }))).toEqual([ok, bet]);
    const middle = rows[3]!.received_at;
    expect(ids(await history.search({ until: middle, limit: 50 }))).toEqual(ids(rows.filter((r) => r.received_at < middle)).reverse());
    expect(ids(await history.search({ since: middle, limit: 50 }))).toEqual(ids(rows.filter((r) => r.received_at >= middle)).reverse());
    expect(await history.search({ since: new Date(Date.now() + 60_000), limit: 50 })).toEqual([]);
    expect(ids(await history.search({ limit: 2 }))).toEqual([event, oversize]);
    expect(ids(await history.search({ limit: 2, before: oversize! }))).toEqual([malformed, forged]);
    expect(await history.search({ unresolved: true, limit: 50 })).toEqual([]);
  });
});

describe('a body that cannot be decoded under its Content-Encoding', () => {
  it('is kept as rejected, with what was wrong, and answered as bad input, not as a fault; a gzip body that is one is read', async () => {
    const before = await command.wallet(gw, 'hi', 'USD');
    const plain = JSON.stringify(command.bet('hi', command.transId(), 1, { round: 'r-gz' }));
    const gzipped = await gw.callback(SCORPIO, gzipSync(plain), { 'content-encoding': 'gzip' });
    expect(JSON.parse(gzipped.text)).toMatchObject({ result: 0 });
    expect(await command.wallet(gw, 'hi', 'USD')).toBe(before - 100n);
    for (const encoding of ['gzip', 'br', 'compress']) {
      const res = await gw.callback(SCORPIO, JSON.stringify(command.bet('hi', command.transId(), 1)), { 'content-encoding': encoding });
      expect(res.status).toBe(200);
      expect(res.text).toBe(command.bare(99));
    }
    const rows = (await all()).slice(-3);
    for (const [i, encoding] of ['gzip', 'br', 'compress'].entries()) {
      expect(rows[i]).toMatchObject({ provider_id: SCORPIO, outcome: 'rejected', operation: null, detail: expect.stringMatching(/^body not readable: /) });
      expect((rows[i]!.headers as Record<string, string>)['content-encoding']).toBe(encoding);
    }
    expect(await command.wallet(gw, 'hi', 'USD')).toBe(before - 100n);
  });
});

describe('retention', () => {
  const DAY = 86_400_000;
  const old = (days: number, player: string) =>
    gw.gateway.history.record({
      captureId: newCaptureId(),
      provider: SCORPIO,
      receivedAt: new Date(Date.now() - days * DAY),
      source: 'vendor',
      headers: {},
      body: Buffer.from('{}'),
      player,
      outcome: 'ok',
      durationMs: 1,
    });
  const players = async () => (await gw.gateway.db.selectFrom('webhooks').select('player_code').where('player_code', 'like', 'ret-%').execute()).map((r) => r.player_code).sort();

  it('purge(date) deletes only the records received before it, in batches', async () => {
    for (const days of [40, 35, 31, 30.5, 29]) await old(days, `ret-${days}`);
    const before = (await all()).length;
    expect(await gw.gateway.history.purge(new Date(Date.now() - 30 * DAY), 2)).toBe(4);
    expect(await players()).toEqual(['ret-29']);
    expect((await all()).length).toBe(before - 4);
    expect(await gw.gateway.history.purge(new Date(Date.now() - 30 * DAY))).toBe(0);
  });

  it('the maintenance job purges what is older than WEBHOOK_RETENTION_DAYS', async () => {
    await old(8, 'ret-8');
    await old(6, 'ret-6');
    await queue(gw, 'maintenance').add('purge', {});
    await eventually(async () => expect(await players()).toEqual(['ret-6']));
    // The calls of this file (today's) are kept.
    expect((await all()).filter((r) => r.player_code?.startsWith('hi'))).not.toHaveLength(0);
  });
});

describe('a history row that cannot be written', () => {
  // The row is sent right ahead of the wallet's COMMIT without waiting for it: its failure must still
  // take the money back (one transaction), and the call is then a fault, kept as one.
  it('takes the bet it describes back with it: the call is a fault, nothing moved, the fault is kept', async () => {
    const { db } = gw.gateway;
    await gw.fund('hist-fail', { USD: '10' });
    await sql`create function refuse_history() returns trigger language plpgsql as $$ begin raise exception 'history refused'; end $$`.execute(db);
    await sql`create trigger refuse_history before insert on webhooks for each row
      when (new.player_code = 'hist-fail' and new.outcome <> 'fault') execute function refuse_history()`.execute(db);
    try {
      const before = await command.snapshot(gw);
      const bet = command.transId();
      // The 99 carries the balance as it stands after the rollback: the bet's 2.50 is not taken.
      await command.expectAnswer(gw, SCORPIO, command.bet('hist-fail', bet, 2.5), command.withBalance(99, '10'));
      expect(await command.snapshot(gw)).toEqual(before);
      expect(await command.wallet(gw, 'hist-fail', 'USD')).toBe(1000n);
      const kept = await db.selectFrom('webhooks').select(['transaction_id', 'outcome', 'detail', 'answer']).where('player_code', '=', 'hist-fail').orderBy('id').execute();
      expect(kept).toEqual([{ transaction_id: String(bet), outcome: 'fault', detail: 'history refused', answer: command.withBalance(99, '10') }]);
    } finally {
      await sql`drop trigger refuse_history on webhooks`.execute(db);
      await sql`drop function refuse_history()`.execute(db);
    }
    await command.expectReconciled(gw);
  });
});

describe('one capture written twice', () => {
  // A COMMIT cut off before its answer may still have written the call's row; the fault the vendor was
  // then answered is written again under the same capture id (from Postgres or, later, from Redis).
  const record = (captureId: string, outcome: 'ok' | 'parked' | 'fault', extra: { replayOf?: bigint; answer?: string } = {}) =>
    gw.gateway.history.record({
      captureId,
      provider: SCORPIO,
      receivedAt: new Date(),
      source: extra.replayOf === undefined ? 'vendor' : 'retry',
      headers: {},
      body: Buffer.from('{}'),
      player: 'twice',
      outcome,
      durationMs: 1,
      ...extra,
    });
  const row = (id: bigint) => gw.gateway.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('keeps one row, holding what the vendor was answered last', async () => {
    const capture = newCaptureId();
    const first = await record(capture, 'ok', { answer: 'the answer that never arrived' });
    const second = await record(capture, 'parked', { answer: 'the 99 the vendor got' });
    expect(second).toBe(first);
    expect(await row(first)).toMatchObject({ outcome: 'parked', answer: 'the 99 the vendor got', resolved_at: null });
    expect(await gw.gateway.db.selectFrom('webhooks').select('id').where('capture_id', '=', capture).execute()).toHaveLength(1);
  });

  it('settles the failure a retry answers in the same write, once, whichever copy lands', async () => {
    const failed = await record(newCaptureId(), 'parked');
    const stillFailing = await record(newCaptureId(), 'fault', { replayOf: failed });
    expect((await row(failed)).resolved_at).toBeNull();
    const capture = newCaptureId();
    const settled = await record(capture, 'ok', { replayOf: failed });
    for (const id of [failed, stillFailing]) expect(await row(id)).toMatchObject({ resolved_by: settled });
    const resolvedAt = (await row(failed)).resolved_at;
    expect(resolvedAt).not.toBeNull();
    // The same record flushed again (a BullMQ job run twice) changes nothing.
    expect(await record(capture, 'ok', { replayOf: failed })).toBe(settled);
    expect(await row(failed)).toMatchObject({ resolved_by: settled, resolved_at: resolvedAt });
  });
});

describe('records written outside a wallet operation, many at once', () => {
  // Failures come in bursts (an overloaded gateway, a slow database): each written in a transaction of
  // its own, they took a disk flush and a connection each from the calls still being served.
  const burst = (n: number, extra: (i: number) => Partial<Parameters<TestGateway['gateway']['history']['record']>[0]> = () => ({})) =>
    Array.from({ length: n }, (_, i) =>
      gw.gateway.history.record({
        captureId: newCaptureId(),
        provider: SCORPIO,
        receivedAt: new Date(),
        source: 'vendor',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(`{"n":${i}}`),
        player: `burst-${i}`,
        outcome: 'fault',
        detail: `burst ${i}`,
        durationMs: 1,
        ...extra(i),
      }),
    );
  /** The transactions that wrote the rows (a row's xmin is its transaction's id). */
  const transactionsOf = async (ids: readonly bigint[]) => {
    const { rows } = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from webhooks where id in (${sql.join(ids)})`.execute(gw.gateway.db);
    return rows[0]!.n;
  };

  it('go together, each with its own row and id: the first at once, those that came meanwhile in one write', async () => {
    const ids = await Promise.all(burst(40));
    expect(new Set(ids).size).toBe(40);
    const rows = await gw.gateway.db.selectFrom('webhooks').select(['id', 'player_code', 'detail', 'body']).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    ids.forEach((id, i) => expect(byId.get(id)).toMatchObject({ player_code: `burst-${i}`, detail: `burst ${i}`, body: Buffer.from(`{"n":${i}}`) }));
    expect(await transactionsOf(ids)).toBeLessThanOrEqual(2);
  });

  it('one the database refuses fails alone; the others are kept', async () => {
    const calls = burst(6, (i) => (i === 3 ? { source: 'not-a-source' as 'vendor' } : {}));
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((settled[3] as PromiseRejectedResult).reason)).toMatch(/webhooks_source_check/);
    const ids = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(await gw.gateway.db.selectFrom('webhooks').select('id').where('id', 'in', ids).execute()).toHaveLength(5);
  });

  it('a capture written twice in one burst keeps what was written last', async () => {
    const capture = newCaptureId();
    const [, first, second] = await Promise.all([...burst(1), ...burst(1, () => ({ captureId: capture, outcome: 'ok', answer: 'first' })), ...burst(1, () => ({ captureId: capture, outcome: 'parked', answer: 'last' }))]);
    expect(second).toBe(first);
    expect(await gw.gateway.db.selectFrom('webhooks').select(['outcome', 'answer']).where('capture_id', '=', capture).execute()).toEqual([{ outcome: 'parked', answer: 'last' }]);
  });
});
