import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../providers/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { createLogger } from '../../src/logging.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import { parseExport } from '../../src/webhooks/wire.ts';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import type { TestGateway } from '../support/gateway.ts';
import { holdWallet, rowsOf, startFaultyGateway, vendorRowOf } from './helpers.ts';

/**
 * A bet is taken when the vendor is told so, or never: one answered as failed or refused is not taken
 * later by a replay, a bulk replay or an import, whatever has changed since (README, "Replaying
 * failures"). An import is taken on the file's word, so it needs the admin role. A replay rejected
 * before the wallet settles nothing.
 */

const SCORPIO = 'scorpio-play';
let gw: TestGateway;
beforeAll(async () => {
  gw = await startFaultyGateway();
});
afterAll(() => gw?.close());

const usd = (player: string) => command.wallet(gw, player, 'USD');
const importFile = (provider: string, content: string) => {
  const parsed = parseExport(content);
  if (!parsed.ok) throw new Error(parsed.message);
  return gw.gateway.replayer.import(provider, parsed.value);
};

async function api(token: string, path: string, body: string) {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body });
  return { status: res.status, json: (await res.json()) as unknown };
}

describe('a bet answered as failed', () => {
  it('is not taken when the vendor export listing it is imported, and the import is not replayable', async () => {
    await gw.fund('ub_cmd', { USD: '100' });
    const betId = command.transId();
    const body = command.bet('ub_cmd', betId, 10, { round: 'r-ub-cmd' });
    const release = await holdWallet(gw, 'ub_cmd', 'USD');
    try {
      await command.expectAnswer(gw, SCORPIO, body, command.withBalance(99, '100'));
    } finally {
      await release();
    }
    const [imported] = await importFile(SCORPIO, JSON.stringify({ body: JSON.stringify(body) }));
    expect(imported).toMatchObject({ outcome: 'rejected', detail: 'an imported bet is never taken: the vendor counts it as failed' });
    expect(await usd('ub_cmd')).toBe(10000n);
    const kept = (await rowsOf(gw, betId)).find((r) => r.source === 'import')!;
    expect(kept.outcome).toBe('rejected');
    expect((await gw.gateway.replayer.replay(kept.id)).outcome).toBe('not_replayable');
    expect((await gw.gateway.replayer.replay((await vendorRowOf(gw, betId)).id)).outcome).toBe('not_replayable');
    expect(await usd('ub_cmd')).toBe(10000n);
  });

  it('event dialect: an imported payload of a bet answered R1 is not taken either', async () => {
    await gw.fund('ub_ev', { USD: '100' });
    const bet = ev.bet('ub_ev', ev.newRound(), [[1, 10]]);
    const release = await holdWallet(gw, 'ub_ev', 'USD');
    try {
      await ev.expectEvent(gw, bet, 'R1', 100);
    } finally {
      await release();
    }
    const [imported] = await importFile(ev.DOWINN.id, JSON.stringify({ payload: bet }));
    expect(imported!.outcome).toBe('rejected');
    expect(await ev.balanceOf(gw, 'ub_ev')).toBe(10000n);
  });
});

describe('a bet answered as refused', () => {
  it('for a player unknown then: not taken by a replay once the player exists', async () => {
    const since = new Date(Date.now() - 1000);
    const betId = command.transId();
    await command.expectAnswer(gw, SCORPIO, command.bet('ub_ghost', betId, 10), command.bare(21));
    const row = await vendorRowOf(gw, betId);
    expect(row.outcome).toBe('refused');
    await gw.fund('ub_ghost', { USD: '100' });
    expect((await gw.gateway.replayer.replay(row.id)).outcome).toBe('not_replayable');
    const bulk = await gw.gateway.replayer.replayMatching({ provider: SCORPIO, since, until: new Date(Date.now() + 1000), outcomes: ['refused'] });
    expect(bulk.find((r) => r.webhookId === row.id.toString())?.outcome).toBe('not_replayable');
    expect(await usd('ub_ghost')).toBe(10000n);
  });

  it('for want of funds: not taken by a replay after a deposit', async () => {
    await gw.fund('ub_poor', { USD: '5' });
    const betId = command.transId();
    await command.expectAnswer(gw, SCORPIO, command.bet('ub_poor', betId, 10), command.withBalance(31, '5'));
    expect((await gw.gateway.backOffice.cashier('deposit', PlayerCode('ub_poor'), asCurrency('USD'), 10000n, 'ub_poor:more')).ok).toBe(true);
    const before = await usd('ub_poor');
    expect((await gw.gateway.replayer.replay((await vendorRowOf(gw, betId)).id)).outcome).toBe('not_replayable');
    expect(await usd('ub_poor')).toBe(before);
  });

  it('a bet that was taken replays as the repeat it is', async () => {
    await gw.fund('ub_taken', { USD: '100' });
    const betId = command.transId();
    await command.expectAnswer(gw, SCORPIO, command.bet('ub_taken', betId, 10), command.ok('90'));
    const replayed = await gw.gateway.replayer.replay((await vendorRowOf(gw, betId)).id);
    expect(replayed.outcome).toBe('duplicate');
    expect(await usd('ub_taken')).toBe(9000n);
  });
});

describe('an import', () => {
  it("needs the admin role: an operator cannot pay a player on a file's word", async () => {
    await gw.fund('ub_forge', { USD: '0' });
    // A bonus call's win needs no stake: a forged one would pay out of nothing.
    const forged = JSON.stringify({ payload: command.win('ub_forge', command.transId(), 5000, { callId: 123456 }) });
    const operator = await api(await gw.adminToken('operator'), `/v1/webhooks/import?provider=${SCORPIO}`, forged);
    expect(operator.status).toBe(403);
    expect(await usd('ub_forge')).toBe(0n);
    // The admin, who may move money at the cashier anyway, may import.
    const admin = await api(await gw.adminToken('admin'), `/v1/webhooks/import?provider=${SCORPIO}`, forged);
    expect(admin.status).toBe(200);
    expect(await usd('ub_forge')).toBe(500000n);
  });
});

describe('a replay rejected before the wallet', () => {
  let rotated: Gateway | undefined;
  afterAll(() => rotated?.close());

  it('settles nothing: the parked result stays in the inbox and is paid once a replay reaches the wallet', async () => {
    await gw.fund('ub_rot', { USD: '100' });
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('ub_rot', round, [[1, 10]]), 'R0', 90);
    const result = ev.result('ub_rot', round, 10, 15);
    const release = await holdWallet(gw, 'ub_rot', 'USD');
    try {
      await ev.expectEvent(gw, result, 'R1', 90);
    } finally {
      await release();
    }
    const parked = await vendorRowOf(gw, result.transaction_id);
    expect(parked.outcome).toBe('parked');

    // The instance's key (its encryption key too) is rotated: the kept ciphertext no longer decrypts.
    const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', WORKERS: 'false', DATABASE_URL: gw.database.url, REDIS_PREFIX: gw.config.redis.prefix };
    rotated = createGateway(loadConfig({ ...env, DOWINN_API_KEY: 'rotated-dowinn-api-key-012345678' }, dialects), createLogger('silent'));
    const rejected = await rotated.replayer.replay(parked.id);
    expect(rejected.outcome).toBe('rejected');
    expect(await ev.balanceOf(gw, 'ub_rot')).toBe(9000n);
    const still = await gw.gateway.history.get(parked.id);
    expect([still!.resolved_at, still!.resolved_by]).toEqual([null, null]);
    expect((await gw.gateway.history.search({ unresolved: true, limit: 100 })).map((r) => r.id)).toContain(parked.id);

    // With the key it came under, the replay pays it, and settles it.
    const paid = await gw.gateway.replayer.replay(parked.id);
    expect(paid.outcome).toBe('ok');
    expect(await ev.balanceOf(gw, 'ub_rot')).toBe(11500n);
    expect((await gw.gateway.history.get(parked.id))!.resolved_at).not.toBeNull();
  });
});
