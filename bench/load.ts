import { monitorEventLoopDelay } from 'node:perf_hooks';
import { endpoint, post, type Endpoint } from './http.ts';
import { Samples, type LatencySummary } from './latency.ts';
import { commandCalls, commandRetry, eventCalls, judge, type Call, type Op, type Verdict } from './vendor.ts';
import { playerCode, PROVIDERS, type Currency } from './world.ts';

/**
 * The load driver: plays the vendors against running gateways, in its own process so that its CPU is
 * not the gateway's. Started by bench/run.ts with a JSON configuration as its argument; reports on
 * its IPC channel ('start' and 'end' of the measured window, so the orchestrator can sample CPU over
 * exactly that window, then the result), or prints the result when run by hand:
 *
 *   node bench/load.ts '{"mode":"closed","callers":64,"ports":[8080],"players":10000}'
 *
 * A vendor's traffic: rounds of bet then win (about 5% of bets cancelled instead), about 2% of calls
 * sent again as a vendor retry of the same transaction, and balance calls, over both dialects.
 */

export interface LoadConfig {
  /** closed: `callers` loops, each sending its next call when the last one answered. open: calls arrive at `rate` per second whatever the answers. */
  mode: 'closed' | 'open';
  callers: number;
  /** open mode: calls per second (turned into rounds per second by the mix's calls per round). */
  rate?: number;
  host?: string;
  ports: number[];
  /** Players p0..p{players-1} exist with funded wallets; p0 is the hot player. */
  players: number;
  /** Every call on the hot player p0. */
  hot?: boolean;
  warmupS?: number;
  durationS?: number;
}

export interface LoadResult {
  config: LoadConfig;
  seconds: number;
  /** Every call of the measured window, answered well or not (the latency figures cover them all). */
  calls: number;
  /** Calls answered as the vendor wanted, per second: errors are not throughput. */
  callsPerSecond: number;
  /** Of those, bet, win and cancel calls (balance calls move no money). */
  moneyCalls: number;
  moneyCallsPerSecond: number;
  rounds: number;
  latency: LatencySummary;
  byOp: Record<string, LatencySummary>;
  errors: number;
  errorsByKind: Partial<Record<Verdict | 'dropped', number>>;
  /** Of the errors, how many of each kind of call (bet, win, cancel, balance). */
  errorsByOp: Record<string, number>;
  /** Up to 10 examples of answers the vendor would not accept: "slotcity win 99". */
  errorExamples: Record<string, number>;
  /** Answers that came after the vendors' 2 s limit (or never). */
  past2s: number;
  driverCpuSeconds: number;
  /** The driver's own event-loop delay: a large value means the driver, not the gateway, was late. */
  driverLoopDelayP99Ms: number;
  /** Good answers in each second of the window, by when they were asked: shows a run that fell over and whether it got up. */
  timeline: number[];
}

const MIX = {
  /** Share of rounds per provider instance: the three command-dialect brands and the event-dialect one. */
  providers: PROVIDERS,
  cancel: 0.05,
  retry: 0.02,
  /** Balance calls per command-dialect round (the event dialect has none). */
  balance: 0.25,
  /** Rounds lost (a win of 0, or a bet_result paying nothing). */
  lost: 0.5,
};
const TIMEOUT_MS = 10_000;
const VENDOR_LIMIT_MS = 2_000;
/** Open mode: rounds allowed in flight before new arrivals are dropped (and counted as errors). */
const MAX_OPEN_ROUNDS = 5_000;

/** Calls per round on average, from the mix: turns an open-loop call rate into a round rate. */
function callsPerRound(): number {
  const command = MIX.providers.filter((p) => p.dialect === 'command').length / MIX.providers.length;
  return command * (MIX.balance + 2 + MIX.retry) + (1 - command) * (2 + 2 * MIX.retry);
}

class Driver {
  readonly #config: Required<LoadConfig>;
  readonly #endpoints: Endpoint[];
  readonly #all = new Samples();
  readonly #byOp = new Map<Op, Samples>();
  readonly #errorsByKind: Partial<Record<Verdict | 'dropped', number>> = {};
  readonly #errorsByOp: Record<string, number> = {};
  readonly #examples: Record<string, number> = {};
  #turn = 0;
  #nextId = Date.now() * 1000; // trans_ids unique across runs on one database, and below 2^53
  #rounds = 0;
  #ok = 0;
  #money = 0;
  #past2s = 0;
  readonly #timeline: number[] = [];
  measureStart = Infinity;
  measureEnd = Infinity;

  constructor(config: LoadConfig) {
    this.#config = { host: '127.0.0.1', hot: false, warmupS: 3, durationS: 15, rate: 0, ...config };
    const sockets = config.mode === 'open' ? 1024 : Math.max(1, Math.ceil(config.callers / config.ports.length) * 2);
    this.#endpoints = config.ports.map((port) => endpoint(this.#config.host, port, sockets));
  }

  get config() {
    return this.#config;
  }

  async send(call: Call, intended = performance.now()): Promise<Verdict> {
    const to = this.#endpoints[this.#turn++ % this.#endpoints.length]!;
    const reply = await post(to, call.path, call.headers, call.body, TIMEOUT_MS);
    const ms = performance.now() - intended;
    const { verdict, code } = judge(call, reply);
    if (intended >= this.measureStart && intended < this.measureEnd) this.#record(call, intended, ms, verdict, code);
    return verdict;
  }

  #record(call: Call, intended: number, ms: number, verdict: Verdict, code: number | string | undefined): void {
    this.#all.add(ms);
    let samples = this.#byOp.get(call.op);
    if (!samples) this.#byOp.set(call.op, (samples = new Samples()));
    samples.add(ms);
    if (ms > VENDOR_LIMIT_MS) this.#past2s++;
    if (verdict === 'ok') {
      this.#ok++;
      const second = Math.floor((intended - this.measureStart) / 1000);
      this.#timeline[second] = (this.#timeline[second] ?? 0) + 1;
      if (call.op !== 'balance') this.#money++;
    } else {
      this.#errorsByKind[verdict] = (this.#errorsByKind[verdict] ?? 0) + 1;
      this.#errorsByOp[call.op] = (this.#errorsByOp[call.op] ?? 0) + 1;
      const example = `${call.provider.id} ${call.op} ${code ?? verdict}`;
      if (example in this.#examples || Object.keys(this.#examples).length < 10) this.#examples[example] = (this.#examples[example] ?? 0) + 1;
    }
  }

  dropped(): void {
    this.#errorsByKind.dropped = (this.#errorsByKind.dropped ?? 0) + 1;
  }

  id(): number {
    return this.#nextId++;
  }

  /** One round for `player`; its first call is measured from `intended` (open mode: its arrival time). */
  async round(player: string, intended: number): Promise<void> {
    const random = Math.random;
    const provider = MIX.providers[Math.floor(random() * MIX.providers.length)]!;
    const amount = stake(provider.currency);
    const paid = random() < MIX.lost ? 0n : (amount * BigInt(Math.floor(random() * 200))) / 100n;
    if (intended >= this.measureStart && intended < this.measureEnd) this.#rounds++;
    if (provider.dialect === 'command') {
      let first = true;
      const sendFirst = (call: Call) => {
        const at = first ? intended : performance.now();
        first = false;
        return this.send(call, at);
      };
      if (random() < MIX.balance) await sendFirst(commandCalls.balance(provider, player));
      const betId = this.id();
      const round = String(betId);
      if ((await sendFirst(commandCalls.bet(provider, player, betId, round, amount))) !== 'ok') {
        // The vendor never retries a bet: one without a good answer is cancelled (it may never have been taken: 42).
        await this.send(commandCalls.cancel(provider, player, betId, round, [0, 42]));
        return;
      }
      const settle = random() < MIX.cancel ? commandCalls.cancel(provider, player, betId, round) : commandCalls.win(provider, player, this.id(), round, paid);
      if ((await this.send(settle)) === 'ok' && random() < MIX.retry) await this.send(commandRetry(settle));
    } else {
      const id = this.id();
      const table = { table: `T${id % 16}`, game: String(id), amount };
      const bet = eventCalls.bet(provider, player, `b${id}`, table);
      if ((await this.send(bet, intended)) !== 'ok') {
        await this.send(eventCalls.cancel(provider, player, `c${id}`, table));
        return;
      }
      if (random() < MIX.retry) await this.send(bet);
      const settle = random() < MIX.cancel ? eventCalls.cancel(provider, player, `c${id}`, table) : eventCalls.result(provider, player, `r${id}`, table, paid);
      if ((await this.send(settle)) === 'ok' && random() < MIX.retry) await this.send(settle);
    }
  }

  result(seconds: number, cpuSeconds: number, loopDelayP99Ms: number): LoadResult {
    const latency = this.#all.summary();
    const errors = Object.values(this.#errorsByKind).reduce((a, b) => a + b, 0);
    return {
      config: this.#config,
      seconds,
      calls: latency.count,
      callsPerSecond: Math.round(this.#ok / seconds),
      moneyCalls: this.#money,
      moneyCallsPerSecond: Math.round(this.#money / seconds),
      rounds: this.#rounds,
      latency,
      byOp: Object.fromEntries([...this.#byOp].map(([op, s]) => [op, s.summary()])),
      errors,
      errorsByKind: this.#errorsByKind,
      errorsByOp: this.#errorsByOp,
      errorExamples: this.#examples,
      past2s: this.#past2s, // a timeout is recorded at its 10 s, so it is counted here too
      driverCpuSeconds: cpuSeconds,
      driverLoopDelayP99Ms: loopDelayP99Ms,
      timeline: Array.from({ length: Math.ceil(seconds) }, (_, i) => this.#timeline[i] ?? 0),
    };
  }
}

/** A stake between 1 and 100 currency units (KRW: 100 to 10 000 won), in minor units. */
function stake(currency: Currency): bigint {
  const base = BigInt(1 + Math.floor(Math.random() * 100));
  return currency === 'KRW' ? base * 100n : base * 100n + BigInt(Math.floor(Math.random() * 100));
}

/** Closed loop: caller c plays the players k = 1 + c (mod callers), so two callers never share a player (unless hot). */
async function closedLoop(driver: Driver): Promise<void> {
  const { callers, players, hot } = driver.config;
  const loops = Array.from({ length: callers }, async (_, c) => {
    const slice = Math.max(1, Math.floor((players - 2 - c) / callers) + 1);
    while (performance.now() < driver.measureEnd) {
      const k = hot ? 0 : 1 + c + callers * Math.floor(Math.random() * slice);
      await driver.round(playerCode(k), performance.now());
    }
  });
  await Promise.all(loops);
}

/** Open loop: rounds start on a fixed schedule; a late start is measured from its scheduled time (no coordinated omission). */
async function openLoop(driver: Driver, start: number): Promise<void> {
  const { rate, players, hot } = driver.config;
  const interval = 1000 / (rate / callsPerRound());
  const inFlight = new Set<Promise<void>>();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (let due = start + i * interval; due <= now && due < driver.measureEnd; due = start + ++i * interval) {
        if (inFlight.size >= MAX_OPEN_ROUNDS) {
          if (due >= driver.measureStart) driver.dropped();
          continue;
        }
        const k = hot ? 0 : 1 + Math.floor(Math.random() * (players - 1));
        const round = driver.round(playerCode(k), due).finally(() => inFlight.delete(round));
        inFlight.add(round);
      }
      if (start + i * interval < driver.measureEnd) setTimeout(tick, Math.max(0, Math.min(5, start + i * interval - now)));
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
}

export async function runLoad(config: LoadConfig, report: (event: 'start' | 'end') => void = () => {}): Promise<LoadResult> {
  if (config.mode === 'open' && !(config.rate && config.rate > 0)) throw new Error('open mode needs a rate (calls per second)');
  if (!config.hot && config.players < config.callers + 2) throw new Error(`${config.players} players are too few for ${config.callers} callers`);
  const driver = new Driver(config);
  const { warmupS, durationS } = driver.config;
  const start = performance.now();
  driver.measureStart = start + warmupS * 1000;
  driver.measureEnd = driver.measureStart + durationS * 1000;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let cpu = process.cpuUsage();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    cpu = process.cpuUsage(cpu);
    loopDelay.disable();
    report('end');
  };
  const marks = [
    setTimeout(() => {
      cpu = process.cpuUsage();
      loopDelay.enable();
      report('start');
    }, warmupS * 1000),
    setTimeout(end, (warmupS + durationS) * 1000),
  ];
  try {
    await (config.mode === 'closed' ? closedLoop(driver) : openLoop(driver, start));
  } finally {
    for (const mark of marks) clearTimeout(mark);
    end();
  }
  return driver.result(durationS, (cpu.user + cpu.system) / 1e6, Math.round(loopDelay.percentile(99) / 1e4) / 100);
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  const send = process.send?.bind(process);
  const result = await runLoad(config, (event) => send?.({ type: event }));
  if (send) send({ type: 'result', result }, () => process.exit(0));
  else {
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
}
