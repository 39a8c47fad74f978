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
  expect(counts).toEqual({ groups: 2, operations: 7, reruns: 1 });
  expect(describeGrouping(counts, 10)).toBe('groups of 3.5 operations (2 groups, 70% of the calls), 1 rerun');
  expect(groupingOf('')).toEqual({ groups: 0, operations: 0, reruns: 0 });
});
