import { parseArgs } from 'node:util';

/** The bench's command line (bench/README.md lists it). */
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'boolean', default: false },
    ceiling: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    players: { type: 'string', default: '10000' },
    callers: { type: 'string' },
    rate: { type: 'string' },
    'hot-callers': { type: 'string', default: '64' },
    'pgbench-scale': { type: 'string', default: '64' },
    'scale-players': { type: 'string', default: '1000000' },
    'scale-transfers': { type: 'string', default: '10000000' },
    'no-build': { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
  strict: true,
});

const quick = args.quick;

export const options = {
  /** A smoke test of the bench itself: short runs, fewer configurations. */
  quick,
  scale: args.scale,
  /** --ceiling: pgbench replaying the ledger's own work with no gateway, next to tpcb-like (bench/ceiling.ts). */
  ceiling: args.ceiling,
  build: !args['no-build'],
  warmupS: Number(args.warmup ?? (quick ? 2 : 3)),
  durationS: Number(args.duration ?? (quick ? 5 : 15)),
  /** Players preloaded for the default run (p0 is the hot player). */
  players: Number(args.players),
  callers: (args.callers ?? (quick ? '16,64' : args.ceiling ? '1,16,64' : '1,16,64,256')).split(',').map(Number),
  /** Open-loop calls per second; by default a share of the best closed-loop rate. */
  rate: args.rate === undefined ? undefined : Number(args.rate),
  hotCallers: Number(args['hot-callers']),
  processes: quick ? [1, 2] : [1, 2, 4],
  /** 64 branches, so that tpcb-like's contended rows are not what limits it at 64 clients. */
  pgbenchScale: Number(args['pgbench-scale']),
  scalePlayers: Number(args['scale-players']),
  scaleTransfers: Number(args['scale-transfers']),
  /** --scale: measure the big database left by an earlier scale run instead of preloading it again. */
  reuse: args.reuse,
};
export type Options = typeof options;

for (const [name, value] of Object.entries(options)) {
  if (typeof value === 'number' && !(value > 0)) throw new Error(`--${name}: not a positive number`);
}

/** Runs are compared at 64 callers (the p99 target), the multi-process runs use as many. */
export const REFERENCE_CALLERS = 64;
/** The open loop runs at this share of the best closed-loop rate: loaded, but short of saturation. */
export const OPEN_LOOP_SHARE = 0.7;
