import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep } from './harness.ts';
import {
  PROVIDER,
  callbackUrl,
  TOKEN,
  expectAlive,
  expectBalancesReplay,
  expectHealthy,
  expectCleanLedger,
  expectFailedWebhooksReplay,
  expectHistoryKept,
  expectParkedAppliedOnce,
  expectSuccessAnswersCommitted,
  expectVendorViewHolds,
  replySummary,
  settle,
  startLab,
  vendorSummary,
  type Lab,
  report,
} from './lab.ts';
import { CommandPlayer, playStreams, prng } from '../../simulator/command-player.ts';

/**
 * Rule 8 with the database gone: Postgres is stopped (immediate shutdown: every connection cut) in
 * the middle of a stream of bets, wins and cancels from two gateway processes, and started again.
 * While it is away, bets fail (and the vendor cancels them), wins and cancels are parked in Redis
 * and their history waits there too; once it is back, the parked work is applied exactly once.
 */

const PLAYERS = Array.from({ length: 8 }, (_, i) => `pg-fault-${i}`);
const FUNDS = 1_000_000n; // 10,000.00: no bet is ever short of funds, so every outcome is decided by the fault alone

let lab: Lab | undefined;
beforeAll(async () => {
  lab = await startLab();
  await lab.spawn('gateway-a');
  await lab.spawn('gateway-b');
  await lab.fund(PLAYERS, FUNDS);
}, 90_000);
afterAll(async () => {
  await lab?.teardown();
}, 60_000);

it('Postgres stopped and restarted under a stream of bets, wins and cancels: nothing acknowledged is lost, parked work applies once', async () => {
  const l = lab!;
  const vendor = new CommandPlayer({
    provider: PROVIDER,
    token: TOKEN,
    endpoints: l.gateways.map(callbackUrl),
    // The vendors retry every 2-4 s; scaled down so the 3 retries fall inside (and some after) the outage.
    retryDelayMs: [250, 500],
    random: prng(81_001),
  });
  let stop = false;
  const load = playStreams(vendor, PLAYERS, 2, 300, () => stop);

  await sleep(1_500);
  const downAt = vendor.now();
  await l.pg.stop();
  await sleep(3_000);
  await l.pg.restart();
  const upAt = vendor.now();
  await sleep(2_500);
  stop = true;
  const rounds = await load;

  expectAlive(l);
  // Both processes came through the outage and reach Postgres again on their own.
  await expectHealthy(l);
  const duringOutage = vendor.attempts.filter((a) => a.at >= downAt && a.at < upAt);
  // The fault was felt: calls were made while Postgres was away and some of them failed.
  expect(duringOutage.length).toBeGreaterThan(0);
  expect(duringOutage.filter((a) => a.reply === 99).length).toBeGreaterThan(0);

  const { waitedMs } = await settle(l, 60_000);
  await expectCleanLedger(l);
  const successes = await expectSuccessAnswersCommitted(l, vendor);
  const parked = await expectParkedAppliedOnce(l);
  expect(parked.parked).toBeGreaterThan(0);
  const history = await expectHistoryKept(l, vendor);
  const replays = await expectFailedWebhooksReplay(l, vendor, true);
  await expectVendorViewHolds(l, vendor);
  await expectBalancesReplay(l, vendor);
  await expectCleanLedger(l);
  expectAlive(l);

  report({
      scenario: 'postgres stop/restart',
      rounds,
      fault: { postgresDownMs: Math.round(upAt - downAt), attemptsDuringOutage: duringOutage.length },
      vendor: vendorSummary(vendor),
      ...replySummary(vendor.attempts),
      successAnswersChecked: successes,
      parked,
      history,
      replays,
      drainMs: waitedMs,
      gatewayLogLines: l.gateways.map((g) => g.lines()),
  });
}, 150_000);
