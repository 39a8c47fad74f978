import { afterAll, beforeAll, expect, it } from 'vitest';
import { killGateway, sleep } from './harness.ts';
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
 * One of two gateway processes is killed with SIGKILL under load: its calls in flight get no answer
 * (some were committed, some not), its player locks stay in Redis until they expire, its worker's
 * jobs are abandoned mid-run. The vendor's clients fail over to the surviving process for their next
 * calls and follow their retry rules; everything the dead process acknowledged must be in the ledger,
 * and whatever it left half done must end applied exactly once or not at all.
 */

const PLAYERS = Array.from({ length: 10 }, (_, i) => `kill-fault-${i}`);
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

it('kill -9 of one of two gateway processes under load: clients fail over, nothing acknowledged is lost, nothing applies twice', async () => {
  const l = lab!;
  const survivor = l.gateways[0]!;
  const victim = l.gateways[1]!;
  const vendor = new CommandPlayer({
    provider: PROVIDER,
    token: TOKEN,
    endpoints: l.gateways.map(callbackUrl),
    // The vendors retry every 2-4 s; scaled down to keep the test short.
    retryDelayMs: [250, 500],
    random: prng(83_003),
  });
  let stop = false;
  const load = playStreams(vendor, PLAYERS, 3, 300, () => stop);

  await sleep(2_000);
  const inFlightAtKill = vendor.inFlight();
  const killedAt = vendor.now();
  await killGateway(l.resources, victim, 'SIGKILL');
  await sleep(4_000);
  stop = true;
  const rounds = await load;

  expect(victim.exit()?.signal).toBe('SIGKILL');
  expectAlive(l);
  await expectHealthy(l); // the survivor
  // The clients noticed and moved: the dead process is out of their rotation, and every later call went to the survivor.
  expect(vendor.down()).toEqual([callbackUrl(victim)]);
  const afterKill = vendor.attempts.filter((a) => a.at > killedAt + 100);
  expect(afterKill.filter((a) => a.endpoint === callbackUrl(survivor)).length).toBeGreaterThan(0);
  const cutOff = vendor.attempts.filter((a) => a.endpoint === callbackUrl(victim) && a.reply === 'network');

  // A job the dead worker held is taken over once BullMQ sees it stalled (its check runs every 30 s).
  const { waitedMs } = await settle(l, 75_000);
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
      scenario: 'kill -9 of one of two gateways',
      rounds,
      fault: { killedAtMs: Math.round(killedAt), callsInFlightAtKill: inFlightAtKill, callsCutOff: cutOff.length, callsAfterKill: afterKill.length },
      vendor: vendorSummary(vendor),
      ...replySummary(vendor.attempts),
      successAnswersChecked: successes,
      parked,
      history,
      replays,
      drainMs: waitedMs,
      gatewayLogLines: l.gateways.map((g) => g.lines()),
  });
}, 180_000);
