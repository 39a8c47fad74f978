import { expect, it } from 'vitest';
import { cpuBetween, type Snapshot } from '../../bench/cpu.ts';

const at = (ms: number, loops: [number, number, number][]): Snapshot => ({
  at: ms,
  groups: { gateway: new Map(), postgres: new Map(), redis: new Map(), driver: new Map() },
  machine: { busy: 0, steal: 0 },
  loops: new Map(loops.map(([pid, running, waiting]) => [pid, { running, waiting }])),
});

/** The event loops' shares: on a core, waiting for one, averaged over the gateways seen at both ends of the window. */
it("reports the gateways' event loops on a core and waiting for one, as shares of the window", () => {
  const second = 1e9;
  const before = at(0, [
    [11, 5 * second, 1 * second],
    [12, 0, 0],
  ]);
  const after = at(2000, [
    [11, 5 * second + 1.2 * second, 1 * second + 0.6 * second], // 60% running, 30% waiting
    [12, 0.8 * second, 1 * second], // 40% running, 50% waiting
    [13, 2 * second, 0], // started during the window: not counted
  ]);
  expect(cpuBetween(before, after).gatewayLoop).toEqual({ running: 0.5, waiting: 0.4 });
});

it('reports no event loop share where the kernel gave no scheduler statistics', () => {
  expect(cpuBetween(at(0, []), at(1000, [])).gatewayLoop).toBeUndefined();
});
