import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  PROVIDER,
  callbackUrl,
  TOKEN,
  expectAlive,
  expectBalancesReplay,
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
 * Rule 5 and rule 8 under load: three gateway processes on one database and one Redis, 50 players,
 * thousands of bets, wins and cancels in parallel (two vendor sessions per player at once), some
 * calls sent twice at the same moment to two different processes, and the vendor's retry rules on
 * every failure answer (a lock that cannot be had in time is one). No fault is injected: the load is
 * the fault.
 */

const PLAYERS = Array.from({ length: 50 }, (_, i) => `load-${String(i).padStart(2, '0')}`);
const STREAMS_PER_PLAYER = 2;
const ROUNDS_PER_STREAM = 14; // about 2.2 calls a round: ~3000 operations
const FUNDS = 1_000_000n; // 10,000.00: no bet is ever short of funds
const LOAD_DEADLINE_MS = 90_000;

let lab: Lab | undefined;
beforeAll(async () => {
  lab = await startLab();
  await lab.spawn('gateway-a');
  await lab.spawn('gateway-b');
  await lab.spawn('gateway-c');
  await lab.fund(PLAYERS, FUNDS);
}, 90_000);
afterAll(async () => {
  await lab?.teardown();
}, 60_000);

it('three gateways, 50 players, ~3000 mixed operations in parallel with duplicates and retries: serial, exactly once, clean', async () => {
  const l = lab!;
  const vendor = new CommandPlayer({
    provider: PROVIDER,
    token: TOKEN,
    endpoints: l.gateways.map(callbackUrl),
    retryDelayMs: [250, 500],
    random: prng(84_004),
    duplicateRate: 0.1,
  });
  const started = Date.now();
  const rounds = await playStreams(vendor, PLAYERS, STREAMS_PER_PLAYER, ROUNDS_PER_STREAM, () => Date.now() - started > LOAD_DEADLINE_MS, 1_000, prng(4));
  const loadMs = Date.now() - started;

  expectAlive(l);
  const summary = vendorSummary(vendor);
  expect(summary.operations).toBeGreaterThanOrEqual(2500);
  expect(summary.duplicatesSent).toBeGreaterThan(0);
  // Every call reached a process (none was down) and got a dialect answer.
  expect(vendor.attempts.filter((a) => a.reply === 'network' || a.reply === 'http' || a.reply === 'garbled')).toEqual([]);

  const { waitedMs } = await settle(l, 60_000);
  await expectCleanLedger(l);
  const successes = await expectSuccessAnswersCommitted(l, vendor);
  const parked = await expectParkedAppliedOnce(l);
  const history = await expectHistoryKept(l, vendor);
  const replays = await expectFailedWebhooksReplay(l, vendor, true);
  await expectVendorViewHolds(l, vendor);
  await expectBalancesReplay(l, vendor);
  await expectCleanLedger(l);
  expectAlive(l);

  report({
      scenario: 'load: 3 gateways, 50 players',
      rounds,
      loadMs,
      callsPerSecond: Math.round((vendor.attempts.length / loadMs) * 1000),
      vendor: summary,
      ...replySummary(vendor.attempts),
      successAnswersChecked: successes,
      parked,
      history,
      replays,
      drainMs: waitedMs,
      gatewayLogLines: l.gateways.map((g) => g.lines()),
  });
}, 180_000);
