import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as command from '../command/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A day's sums pass the largest bigint although no balance does: three players each paid a bonus win
 * just under it by one vendor. The report, live and rolled up, adds them exactly, and the other
 * providers' figures are still reported (one vendor's wins once made every report fail).
 */

const HUGE = 9_223_372_036_850_000_000n; // KRW has no minor unit: this many won
let gw: TestGateway;
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  gw = await startTestGateway();
  for (const player of ['huge-a', 'huge-b', 'huge-c']) {
    await gw.fund(player, { KRW: '0' });
    // A JSON number of 19 digits, written as digits: a JS number would round it.
    const body = JSON.stringify(command.win(player, command.transId(), 0, { round: `huge-${player}`, type: 32, callId: 7 })).replace('"amount":0', `"amount":${HUGE}`);
    const res = await gw.callback('meganodes', body);
    expect(JSON.parse(res.text)).toMatchObject({ result: 0 });
  }
  await gw.fund('huge-usd', { USD: '10' });
  await command.expectAnswer(gw, 'scorpio-play', command.bet('huge-usd', command.transId(), 2, { round: 'huge-usd-1' }), command.ok('8'));
});
afterAll(() => gw?.close());

describe('a day whose sums pass the largest bigint', () => {
  it('is reported exactly, live, rolled up and over the API, beside the other providers', async () => {
    const live = await gw.gateway.reports.ggr({ from: today, to: today, by: 'day' });
    const promo = (rows: typeof live) => rows.find((r) => r.provider === 'meganodes')!.promoWins;
    expect(promo(live)).toBe(3n * HUGE);
    expect(live.find((r) => r.provider === 'scorpio-play')!.stakes).toBe(200n);

    const tomorrowNoon = Date.parse(`${today}T12:00:00Z`) + 86_400_000;
    expect(await gw.gateway.reports.rollUp(tomorrowNoon)).toContain(today);
    expect(await gw.gateway.reports.ggr({ from: today, to: today, by: 'day' }, tomorrowNoon)).toEqual(live);

    const res = await fetch(`${gw.url}/v1/reports/ggr?from=${today}&to=${today}&by=month`, { headers: { authorization: `Bearer ${await gw.adminToken('viewer')}` } });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { rows: unknown }).rows as { provider: string; promoWins: string }[];
    expect(rows.find((r) => r.provider === 'meganodes')!.promoWins).toBe(String(3n * HUGE));
  });
});
