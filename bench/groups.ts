import type { Gateway } from './processes.ts';
import { SECRETS } from './world.ts';

/**
 * How the gateways' wallets grouped their operations over a measured window, read from their own
 * /metrics (`croupier_wallet_group_size`): a group is several players' operations in one
 * transaction, and the larger the groups, the less each call costs Postgres and the gateway
 * (docs/performance.md). An operation that ran alone is in no group.
 */
export interface Grouping {
  /** Groups that committed, and the operations in them. */
  groups: number;
  operations: number;
  /** Groups rolled back, whose operations then ran again alone. */
  reruns: number;
}

const LINE = /^croupier_wallet_group_size_(sum|count)\{result="(committed|rerun)"\} (\S+)$/;

/** The counts in one gateway's /metrics text. */
export function groupingOf(metrics: string): Grouping {
  const counts: Grouping = { groups: 0, operations: 0, reruns: 0 };
  for (const line of metrics.split('\n')) {
    const [, stat, result, value] = LINE.exec(line) ?? [];
    if (result === 'committed' && stat === 'count') counts.groups += Number(value);
    if (result === 'committed' && stat === 'sum') counts.operations += Number(value);
    if (result === 'rerun' && stat === 'count') counts.reruns += Number(value);
  }
  return counts;
}

/** The gateways' counts so far (zero for a gateway that has not grouped yet or does not answer). */
export async function grouping(gateways: readonly Gateway[]): Promise<Grouping> {
  const texts = await Promise.all(
    gateways.map((gateway) =>
      fetch(`http://127.0.0.1:${gateway.port}/metrics`, {
        headers: { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` },
        signal: AbortSignal.timeout(5000),
      }).then(
        (res) => (res.ok ? res.text() : ''),
        () => '',
      ),
    ),
  );
  return texts.map(groupingOf).reduce((a, b) => ({ groups: a.groups + b.groups, operations: a.operations + b.operations, reruns: a.reruns + b.reruns }));
}

export const groupingBetween = (before: Grouping, after: Grouping): Grouping => ({
  groups: after.groups - before.groups,
  operations: after.operations - before.operations,
  reruns: after.reruns - before.reruns,
});

/** "groups of 4.9 operations (2,068 groups, 78% of the calls), 0 rerun". */
export function describeGrouping(g: Grouping, calls: number): string {
  if (g.groups === 0) return `no groups (every operation alone), ${g.reruns} rerun`;
  const share = calls > 0 ? `, ${Math.round((100 * g.operations) / calls)}% of the calls` : '';
  return `groups of ${(g.operations / g.groups).toFixed(1)} operations (${g.groups.toLocaleString('en-US')} groups${share}), ${g.reruns} rerun`;
}
