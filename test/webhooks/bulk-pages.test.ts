import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replayer } from '../../src/webhooks/replay.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A bulk replay runs every match, oldest first, however many: it reads them a page at a time. A dry
 * run counts them all and lists the oldest page.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw?.close());

/** `n` unsettled faults of `provider`, a second apart from `from`, written straight into the history; their ids, oldest first. */
async function faults(provider: string, from: Date, n: number): Promise<bigint[]> {
  const { rows } = await sql<{ id: bigint }>`
    insert into webhooks (capture_id, provider_id, received_at, source, headers, body, path, plaintext, outcome, duration_ms)
    select gen_random_uuid(), ${provider}, ${from}::timestamptz + make_interval(secs => g), 'vendor', '{}'::jsonb, convert_to('{}', 'UTF8'), '', false, 'fault', 1
    from generate_series(0, ${n - 1}) g order by g
    returning id`.execute(gw.gateway.db);
  return rows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : 1));
}

describe('a window with more failures than a page', () => {
  it('is replayed whole, oldest first, page by page', async () => {
    const from = new Date(Date.now() - 2 * 3_600_000);
    const ids = await faults('meganodes', from, 7);
    const { history, pipeline, providers } = gw.gateway;
    const replayer = new Replayer(history, pipeline, providers, 3);
    const window = { provider: 'meganodes', since: from, until: new Date(from.getTime() + 3_600_000) };
    expect(await replayer.count(window)).toBe(7);
    expect((await replayer.candidates(window)).map((r) => r.id)).toEqual(ids.slice(0, 3));
    const progress: [number, number][] = [];
    const results = await replayer.replayMatching(window, (done, total) => progress.push([done, total]));
    expect(results.map((r) => BigInt(r.webhookId))).toEqual(ids);
    expect(progress.at(0)).toEqual([0, 7]);
    expect(progress.at(-1)).toEqual([7, 7]);
  });

  it("a dry run over /v1 counts all 10,001 and lists the oldest 10,000", async () => {
    const from = new Date(Date.now() - 5 * 3_600_000);
    const ids = await faults('slotcity', from, 10_001);
    const res = await fetch(`${gw.url}/v1/webhooks/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'slotcity', since: from.toISOString(), until: new Date(from.getTime() + 4 * 3_600_000).toISOString(), dryRun: true }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { dryRun: boolean; count: number; webhookIds: string[] };
    expect(body.count).toBe(10_001);
    expect(body.webhookIds).toHaveLength(10_000);
    expect(body.webhookIds[0]).toBe(ids[0]!.toString());
    expect(body.webhookIds.at(-1)).toBe(ids[9_999]!.toString());
  });
});

describe('a /v1 dry run over a window still open', () => {
  const replay = async (body: object) => {
    const res = await fetch(`${gw.url}/v1/webhooks/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return res.json() as Promise<{ count: number; webhookIds?: string[]; since?: string; until?: string; results?: { webhookId: string }[] }>;
  };

  it('answers the window it counted in; replaying that window leaves a failure that arrived since for its own count', async () => {
    const since = new Date(Date.now() - 60_000);
    const [counted] = await faults('scorpio-play', since, 1);
    const asked = { provider: 'scorpio-play', since: since.toISOString(), until: new Date(Date.now() + 3_600_000).toISOString() };
    const before = Date.now();
    const dry = await replay({ ...asked, dryRun: true });
    expect(dry).toMatchObject({ count: 1, webhookIds: [counted!.toString()], since: asked.since });
    expect(Date.parse(dry.until!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(dry.until!)).toBeLessThanOrEqual(Date.now());
    const [late] = await faults('scorpio-play', new Date(Date.parse(dry.until!) + 1), 1);
    const done = await replay({ provider: 'scorpio-play', since: dry.since, until: dry.until });
    expect(done.results!.map((r) => r.webhookId)).toEqual([counted!.toString()]);
    expect((await replay({ ...asked, dryRun: true })).webhookIds).toContain(late!.toString());
  });

  it('keeps a window that has closed as it was asked', async () => {
    const since = new Date(Date.now() - 7 * 3_600_000);
    const until = new Date(since.getTime() + 60_000);
    expect(await replay({ provider: 'scorpio-play', since: since.toISOString(), until: until.toISOString(), dryRun: true })).toEqual({
      dryRun: true,
      count: 0,
      webhookIds: [],
      since: since.toISOString(),
      until: until.toISOString(),
    });
  });
});
