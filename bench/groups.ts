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
  /** The same for chains: one player's queued operations run one after the other in one transaction (`croupier_wallet_chain_size`). */
  chains: number;
  chained: number;
  chainReruns: number;
}

const LINE = /^croupier_wallet_(group|chain)_size_(sum|count)\{result="(committed|rerun)"\} (\S+)$/;

export const NO_GROUPING: Grouping = { groups: 0, operations: 0, reruns: 0, chains: 0, chained: 0, chainReruns: 0 };

/** The counts in one gateway's /metrics text. */
export function groupingOf(metrics: string): Grouping {
  const counts: Grouping = { ...NO_GROUPING };
  for (const line of metrics.split('\n')) {
    const [, kind, stat, result, value] = LINE.exec(line) ?? [];
    const [all, members, reruns] = kind === 'group' ? (['groups', 'operations', 'reruns'] as const) : (['chains', 'chained', 'chainReruns'] as const);
    if (result === 'committed' && stat === 'count') counts[all] += Number(value);
    if (result === 'committed' && stat === 'sum') counts[members] += Number(value);
    if (result === 'rerun' && stat === 'count') counts[reruns] += Number(value);
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
  return texts.map(groupingOf).reduce((a, b) => combine(a, b, 1), NO_GROUPING);
}

const combine = (a: Grouping, b: Grouping, sign: 1 | -1): Grouping =>
  Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v + sign * b[k as keyof Grouping]])) as unknown as Grouping;

export const groupingBetween = (before: Grouping, after: Grouping): Grouping => combine(after, before, -1);

/** "groups of 4.9 operations (2,068 groups, 78% of the calls), 0 rerun; chains of 3.1 operations (...), 0 rerun". */
export function describeGrouping(g: Grouping, calls: number): string {
  const share = (n: number) => (calls > 0 ? `, ${Math.round((100 * n) / calls)}% of the calls` : '');
  const groups =
    g.groups === 0
      ? `no groups (every operation alone), ${g.reruns} rerun`
      : `groups of ${(g.operations / g.groups).toFixed(1)} operations (${g.groups.toLocaleString('en-US')} groups${share(g.operations)}), ${g.reruns} rerun`;
  if (g.chains === 0 && g.chainReruns === 0) return groups;
  const chains = g.chains === 0 ? 'no chains' : `chains of ${(g.chained / g.chains).toFixed(1)} operations (${g.chains.toLocaleString('en-US')} chains${share(g.chained)})`;
  return `${groups}; ${chains}, ${g.chainReruns} rerun`;
}
