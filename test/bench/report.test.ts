import { expect, it } from 'vitest';
import { describeKinds } from '../../bench/report.ts';

const summary = (count: number, p50: number, p99: number) => ({ count, mean: p50, p50, p95: p99, p99, p999: p99, max: p99 });

/** A run with failures or late answers is printed with its calls by kind, most frequent first: the mix says why. */
it('describes a run by kind of call: most frequent first, with latency and failures where there were any', () => {
  const byOp = { win: summary(120, 2056, 3042.26), bet: summary(1280, 1857.21, 1895.41), cancel: summary(1092, 1929.02, 3212.69) };
  expect(describeKinds({ byOp, errorsByOp: { bet: 1106 } })).toBe(
    'by kind of call: bet 1,280 (p50 1857.21 ms, p99 1895.41 ms, 1,106 failed), cancel 1,092 (p50 1929.02 ms, p99 3212.69 ms), win 120 (p50 2056 ms, p99 3042.26 ms)',
  );
});
