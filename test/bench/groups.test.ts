import { expect, it } from 'vitest';
import { describeGrouping, groupingOf } from '../../bench/groups.ts';
import { Metrics } from '../../src/http/metrics.ts';

/** The bench reads each run's wallet groups from the gateway's own /metrics: its names and labels, not a copy of them. */
it("reads the wallet's groups from the gateway's metrics: committed groups and their operations, reruns apart", async () => {
  const metrics = new Metrics();
  metrics.groups.grouped(4, 'committed');
  metrics.groups.grouped(3, 'committed');
  metrics.groups.grouped(5, 'rerun');
  const counts = groupingOf(await metrics.registry.metrics());
  expect(counts).toEqual({ groups: 2, operations: 7, reruns: 1, chains: 0, chained: 0, chainReruns: 0 });
  expect(describeGrouping(counts, 10)).toBe('groups of 3.5 operations (2 groups, 70% of the calls), 1 rerun');
  expect(groupingOf('')).toEqual({ groups: 0, operations: 0, reruns: 0, chains: 0, chained: 0, chainReruns: 0 });
});

it("reads one player's chains apart from the groups", async () => {
  const metrics = new Metrics();
  metrics.groups.chained!(6, 'committed');
  metrics.groups.chained!(2, 'committed');
  metrics.groups.chained!(3, 'rerun');
  const counts = groupingOf(await metrics.registry.metrics());
  expect(counts).toEqual({ groups: 0, operations: 0, reruns: 0, chains: 2, chained: 8, chainReruns: 1 });
  expect(describeGrouping(counts, 20)).toBe('no groups (every operation alone), 0 rerun; chains of 4.0 operations (2 chains, 40% of the calls), 1 rerun');
});
