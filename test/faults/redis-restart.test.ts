import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep } from './harness.ts';
import {
  PROVIDER,
  callbackUrl,
  TOKEN,
  expectAlive,
  expectBalancesReplay,
  expectCleanLedger,
  expectFailedWebhooksReplay,
  expectHealthy,
  expectHistoryKept,
  expectParkedAppliedOnce,
  expectSuccessAnswersCommitted,
  expectVendorViewHolds,
  holdWalletRow,
  replySummary,
  settle,
  startLab,
  vendorSummary,
  type Lab,
  report,
} from './lab.ts';
import { CommandPlayer, playStreams, prng } from '../../simulator/command-player.ts';

/**
 * Redis holds the player locks, the parked credits and the history's fallback; Postgres alone guards
 * the money. Redis is killed (no persistence: locks and queues are gone) in the middle of a stream of
 * bets, wins and cancels from two gateway processes, some of them sent twice at once to both, and
 * started again, empty, on the same port. While it is away the wallet runs on the Postgres row lock
 * alone, and a credit that faults (one player's wallet row is held locked meanwhile) cannot be
 * parked: it is answered as failed and listed, the vendor's retries or an operator's replay settle it.
 * After the restart the same is done to another player: its failed credits park in the new Redis and
 * the gateways' workers, reconnected on their own, apply them.
 */

const PLAYERS = Array.from({ length: 6 }, (_, i) => `redis-fault-${i}`);
const HOLD_MS = 3_000;
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

it('Redis killed and restarted under a stream of bets, wins and cancels: the wallet stays serial on Postgres, nothing acknowledged is lost', async () => {
  const l = lab!;
  const vendor = new CommandPlayer({
    provider: PROVIDER,
    token: TOKEN,
    endpoints: l.gateways.map(callbackUrl),
    // The vendors retry every 2-4 s; scaled down so the 3 retries fall inside (and some after) the fault.
    retryDelayMs: [250, 500],
    random: prng(82_002),
    duplicateRate: 0.1,
  });
  let stop = false;
  const load = playStreams(vendor, PLAYERS, 3, 300, () => stop);

  await sleep(1_500);
  const downAt = vendor.now();
  await l.redis.stop();
  const heldWhileDown = Promise.all([holdWalletRow(l, PLAYERS[0]!, HOLD_MS), holdWalletRow(l, PLAYERS[1]!, HOLD_MS)]);
  await sleep(3_500);
  await heldWhileDown;
  await l.redis.restart();
  const upAt = vendor.now();
  // The gateways reconnect to the new, empty Redis on their own.
  await expectHealthy(l);
  await Promise.all([holdWalletRow(l, PLAYERS[2]!, HOLD_MS), holdWalletRow(l, PLAYERS[3]!, HOLD_MS)]);
  await sleep(1_500);
  stop = true;
  const rounds = await load;

  expectAlive(l);
  const duringOutage = vendor.attempts.filter((a) => a.at >= downAt && a.at < upAt);
  expect(duringOutage.length).toBeGreaterThan(0);

  const { waitedMs } = await settle(l, 60_000);
  await expectCleanLedger(l);
  const successes = await expectSuccessAnswersCommitted(l, vendor);
  const parked = await expectParkedAppliedOnce(l);
  // The held row after the restart made credits fault with Redis back: they were parked there and applied.
  expect(parked.parked).toBeGreaterThan(0);
  const history = await expectHistoryKept(l, vendor);
  const replays = await expectFailedWebhooksReplay(l, vendor, false);
  await expectVendorViewHolds(l, vendor);
  await expectBalancesReplay(l, vendor);
  await expectCleanLedger(l);
  expectAlive(l);

  report({
      scenario: 'redis kill/restart',
      rounds,
      fault: {
        redisDownMs: Math.round(upAt - downAt),
        attemptsDuringOutage: duringOutage.length,
        failureAnswersDuringOutage: duringOutage.filter((a) => a.reply === 99).length,
        walletRowsHeldMs: HOLD_MS,
      },
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
