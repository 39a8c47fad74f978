import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockedWallet, LockTimeout, type ChainingWallet, type LockObserver } from '../../src/locks/player-lock.ts';
import { createLogger } from '../../src/logging.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import type { Member } from '../../src/wallet/wallet.ts';

/**
 * The player lock on the real Redis, in front of a stand-in for the wallet that records when each
 * call ran and who held the player's Redis key meanwhile, and that holds the player's wallet row as
 * Postgres does (a call asking not to wait for it is refused at once with lock_not_available). The
 * money side of rule 5 (the real row lock) is tested through the gateway in concurrency.test.ts; this
 * is the queueing in front of it.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `croupier_t_${randomBytes(4).toString('hex')}:`;
/** redis-semaphore keeps a mutex under `mutex:` and the name it is given. */
const keyOf = (player: string) => `mutex:${prefix}lock:player:${player}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let redis: Redis;
let probe: Redis;
beforeAll(async () => {
  // As the gateway makes it: no offline queue, so a call before the connection is up runs without the lock.
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  probe = new Redis(REDIS_URL);
  await new Promise((resolve) => redis.once('ready', resolve));
});
afterAll(async () => {
  const keys = await probe.keys(`mutex:${prefix}*`);
  if (keys.length) await probe.del(...keys);
  redis.disconnect();
  probe.disconnect();
});

interface Run {
  process: string;
  /** The operations that ran in this turn (more than one: queued calls taken along, see LockedWallet's chain). */
  ops: string[];
  start: number;
  end: number;
  /** The player's lock key in Redis while the call ran: the holder's identifier. */
  holder: string | null;
}

/** Wallet rows as Postgres holds them, shared by the stand-ins of several "processes": the held rows, and who waits for each, in order. */
type Rows = Map<string, (() => void)[]>;

/** Postgres's answer to a lock taken without waiting on a row another transaction holds. */
const lockNotAvailable = () => Object.assign(new Error('could not obtain lock on row'), { code: '55P03' });

/**
 * Stands in for the wallet: holds the player's row for `ms` (waiting for it in turn, as Postgres
 * queues lock requests, or refused at once when asked not to wait), and notes who held the player's
 * Redis key meanwhile.
 */
function recordingWallet(process: string, runs: Run[], ms = 5, rows: Rows = new Map()): ChainingWallet {
  const execute = async (op: WalletOperation, _within?: unknown, call?: { nowait?: boolean }): Promise<Outcome> => {
    const [result] = await executeAll([{ op }], call);
    if (result!.status === 'rejected') throw result!.reason;
    return result!.value as Outcome;
  };
  const executeAll = async (members: readonly Member[], call?: { nowait?: boolean }): Promise<PromiseSettledResult<unknown>[]> => {
    const { op } = members[0]!;
    const waiting = rows.get(op.player);
    if (waiting) {
      if (call?.nowait) throw lockNotAvailable();
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else rows.set(op.player, []);
    try {
      const start = performance.now();
      const holder = await probe.get(keyOf(op.player));
      await sleep(ms);
      runs.push({ process, ops: members.map((m) => (m.op as { txId?: string }).txId ?? m.op.op), start, end: performance.now(), holder });
      // Each member's own outcome: its place in the turn as its balance.
      return members.map((_m, i) => ({ status: 'fulfilled', value: { type: 'ok', balance: BigInt(i), moved: false } satisfies Outcome }));
    } finally {
      const next = rows.get(op.player)!.shift();
      if (next) next();
      else rows.delete(op.player);
    }
  };
  return { execute, executeAll };
}

/** Another process holding the player's row for `ms`: the calls that find it busy queue in Redis from then on. */
async function busyElsewhere(rows: Rows, player: string, ms: number): Promise<void> {
  const other = new LockedWallet(recordingWallet('elsewhere', [], ms, rows), redis, { waitMs: 2000, ttlMs: 2000, prefix }, counting().observer, log);
  const holding = other.execute(bet(player));
  await sleep(2);
  void holding;
}

const counting = () => {
  const seen = { acquired: 0, uncontended: 0, timeout: 0, bypassed: 0, lost: 0 };
  const observer: LockObserver = { waited: (_s, result) => void seen[result]++, lost: () => void seen.lost++ };
  return { seen, observer };
};

let bets = 0;
/** A money call: it takes the player's wallet row, so it waits in the player's line. */
const bet = (player: string): WalletOperation => ({
  op: 'debit',
  provider: ProviderId('test'),
  txId: ExternalTxId(`bet-${++bets}`),
  amount: 100n,
  player: PlayerCode(player),
  currency: asCurrency('USD'),
});
const balance = (player: string): WalletOperation => ({ op: 'balance', requireActive: false, player: PlayerCode(player), currency: asCurrency('USD') });
const log = createLogger('silent');

function overlapping(runs: readonly Run[]): boolean {
  const sorted = [...runs].sort((a, b) => a.start - b.start);
  return sorted.some((r, i) => i > 0 && r.start < sorted[i - 1]!.end);
}

describe('player lock', () => {
  it('a player no other process is busy with needs no Redis lock: its calls run in line, one at a time', async () => {
    const runs: Run[] = [];
    const { seen, observer } = counting();
    const locked = new LockedWallet(recordingWallet('a', runs), redis, { waitMs: 2000, ttlMs: 2000, prefix }, observer, log);
    await Promise.all(Array.from({ length: 20 }, () => locked.execute(bet('alone'))));
    expect(runs).toHaveLength(20);
    expect(overlapping(runs)).toBe(false);
    expect(runs.every((r) => r.holder === null)).toBe(true);
    expect(seen).toMatchObject({ acquired: 0, uncontended: 20, timeout: 0, bypassed: 0 });
  });

  it('found busy in another process, a line queues in Redis: one lock, passed from call to call, released by its last', async () => {
    const runs: Run[] = [];
    const rows: Rows = new Map();
    const { seen, observer } = counting();
    const locked = new LockedWallet(recordingWallet('a', runs, 5, rows), redis, { waitMs: 2000, ttlMs: 2000, prefix }, observer, log);
    await busyElsewhere(rows, 'busy', 30);
    await Promise.all(Array.from({ length: 20 }, () => locked.execute(bet('busy'))));
    expect(runs).toHaveLength(20);
    expect(overlapping(runs)).toBe(false);
    // 20 calls of 5 ms stay well under the hand-over limit (half of LOCK_WAIT_MS): one lock, passed down.
    expect(new Set(runs.map((r) => r.holder)).size).toBe(1);
    expect(runs.every((r) => r.holder !== null)).toBe(true);
    expect(seen).toMatchObject({ acquired: 20, timeout: 0, bypassed: 0 });
    await sleep(50);
    expect(await probe.get(keyOf('busy'))).toBeNull();
  });

  it('a lock is passed down for at most half of LOCK_WAIT_MS, then taken afresh', async () => {
    const runs: Run[] = [];
    const rows: Rows = new Map();
    const locked = new LockedWallet(recordingWallet('a', runs, 20, rows), redis, { waitMs: 200, ttlMs: 2000, prefix }, counting().observer, log);
    await busyElsewhere(rows, 'long', 30);
    // For 600 ms, always two calls of 20 ms in line: the line never empties.
    const until = performance.now() + 600;
    const feed = async () => {
      while (performance.now() < until) await locked.execute(bet('long'));
    };
    await Promise.all([feed(), feed()]);
    expect(overlapping(runs)).toBe(false);
    const holders = runs.map((r) => r.holder);
    expect(holders.every((h) => h !== null)).toBe(true);
    expect(new Set(holders).size).toBeGreaterThanOrEqual(3);
    // No identifier lives longer than the hand-over limit (100 ms) plus the call that ran past it.
    for (const holder of new Set(holders)) {
      const mine = runs.filter((r) => r.holder === holder);
      expect(mine.at(-1)!.start - mine[0]!.start).toBeLessThan(100 + 20);
    }
  });

  it("a busy line in one process leaves the player's lock to a call waiting in another", async () => {
    const runs: Run[] = [];
    const rows: Rows = new Map();
    const options = { waitMs: 700, ttlMs: 2000, prefix };
    const a = new LockedWallet(recordingWallet('a', runs, 5, rows), redis, options, counting().observer, log);
    const b = new LockedWallet(recordingWallet('b', runs, 5, rows), redis, options, counting().observer, log);
    // Process a: for 1.5 s, always two calls of the player in line.
    const until = performance.now() + 1500;
    const feed = async () => {
      while (performance.now() < until) await a.execute(bet('shared'));
    };
    const feeding = Promise.all([feed(), feed()]);
    await sleep(100);
    // Process b: one call after another; each must get its turn within LOCK_WAIT_MS.
    const fromB: Promise<Outcome>[] = [];
    for (let i = 0; i < 3; i++) {
      fromB.push(b.execute(bet('shared')));
      await sleep(300);
    }
    await expect(Promise.all(fromB)).resolves.toHaveLength(3);
    await feeding;
    expect(overlapping(runs)).toBe(false);
    expect(runs.filter((r) => r.process === 'b')).toHaveLength(3);
  });

  it('a lost lock is not passed on: the next call takes a new one', async () => {
    const runs: Run[] = [];
    const rows: Rows = new Map();
    const { seen, observer } = counting();
    // The refresh runs at 80% of the TTL (400 ms); the key is deleted before it, so it finds the lock gone.
    const locked = new LockedWallet(recordingWallet('a', runs, 50, rows), redis, { waitMs: 5000, ttlMs: 500, prefix }, observer, log);
    await busyElsewhere(rows, 'lost', 30);
    const calls = Array.from({ length: 20 }, () => locked.execute(bet('lost')));
    await sleep(150);
    await probe.del(keyOf('lost'));
    await Promise.all(calls);
    expect(seen.lost).toBe(1);
    expect(overlapping(runs)).toBe(false);
    const holders = runs.map((r) => r.holder);
    const firstAfterLoss = runs.findIndex((r) => r.start > runs[0]!.start + 600);
    expect(firstAfterLoss).toBeGreaterThan(0);
    expect(holders[firstAfterLoss]).not.toBeNull();
    expect(holders[firstAfterLoss]).not.toBe(holders[0]);
    await sleep(50);
    expect(await probe.get(keyOf('lost'))).toBeNull();
  });

  it('the next call starts once the previous one has only its COMMIT left, and the lock outlives both', async () => {
    const events: string[] = [];
    // Stands in for the wallet: 10 ms of statements, then `within`, then a 30 ms COMMIT.
    const wallet = {
      async execute(op: WalletOperation, within?: (trx: never, outcome: Outcome) => Promise<unknown>) {
        const id = (op as { txId?: string }).txId ?? '?';
        events.push(`${id} start`);
        await sleep(10);
        const outcome: Outcome = { type: 'ok', balance: 0n, moved: false };
        const result = within ? await within(undefined as never, outcome) : outcome;
        await sleep(30);
        events.push(`${id} committed`);
        return result;
      },
    } as ChainingWallet;
    const locked = new LockedWallet(wallet, redis, { waitMs: 2000, ttlMs: 2000, prefix }, counting().observer, log);
    const call = (id: string) => ({ ...bet('stepping'), txId: id }) as WalletOperation;
    const within = async () => 'answered';
    await Promise.all([locked.execute(call('first'), within), locked.execute(call('second'), within)]);
    expect(events).toEqual(['first start', 'second start', 'first committed', 'second committed']);
    await sleep(50);
    expect(await probe.get(keyOf('stepping'))).toBeNull();
  });

  it('a busy player\'s queued calls go in one turn, up to the chain size, in order: one that may not follow the others starts a turn of its own', async () => {
    const runs: Run[] = [];
    const { seen, observer } = counting();
    const locked = new LockedWallet(recordingWallet('a', runs), redis, { waitMs: 2000, ttlMs: 2000, prefix, chain: 4 }, observer, log);
    const call = (txId: string, extra: object = {}) => ({ ...bet('chained'), txId, ...extra }) as WalletOperation;
    const ops = [
      call('b1'),
      call('b2'),
      // A rollback may neither follow nor be followed in one transaction.
      { op: 'rollback', provider: ProviderId('test'), target: ExternalTxId('b1'), player: PlayerCode('chained'), currency: asCurrency('USD') } as WalletOperation,
      call('b3', { roundId: 'r1' }),
      call('b4', { roundId: 'r2' }),
      // Its round is b4's: it waits for a turn after b4's.
      call('b5', { roundId: 'r2' }),
      call('b6'),
      call('b7'),
      call('b8'),
      call('b9'),
    ];
    const results = await Promise.all(ops.map((op) => locked.execute(op)));
    expect(runs.map((r) => r.ops)).toEqual([['b1', 'b2'], ['rollback'], ['b3', 'b4'], ['b5', 'b6', 'b7', 'b8'], ['b9']]);
    expect(overlapping(runs)).toBe(false);
    // Each call has its own outcome: the stand-in answers with the call's place in its turn.
    expect(results.map((r) => (r as { balance: bigint }).balance)).toEqual([0n, 1n, 0n, 0n, 1n, 0n, 1n, 2n, 3n, 0n]);
    expect(seen).toMatchObject({ uncontended: 10, timeout: 0 });
  });

  it("a read takes no place in the player's line: it runs at once, beside the money calls, and asks not to wait for the row", async () => {
    const runs: Run[] = [];
    const asked: (boolean | undefined)[] = [];
    const slow = recordingWallet('a', runs, 60);
    const wallet = {
      execute(op: WalletOperation, within?: unknown, call?: { nowait?: boolean }) {
        if (op.op === 'balance') {
          asked.push(call?.nowait);
          return Promise.resolve({ type: 'ok', balance: 7n, moved: false } satisfies Outcome);
        }
        return slow.execute(op, within as undefined, call);
      },
    } as ChainingWallet;
    const { seen, observer } = counting();
    // LOCK_WAIT_MS of 100: a read waiting behind three 60 ms bets would time out.
    const locked = new LockedWallet(wallet, redis, { waitMs: 100, ttlMs: 2000, prefix }, observer, log);
    const bets = [locked.execute(bet('reading')), locked.execute(bet('reading'))];
    const started = performance.now();
    const read = await locked.execute(balance('reading'), undefined, { deadline: started + 2000 });
    expect(read).toMatchObject({ type: 'ok', balance: 7n });
    expect(performance.now() - started).toBeLessThan(50);
    expect(asked).toEqual([true]);
    await Promise.all(bets);
    expect(runs).toHaveLength(2);
    // Only the bets queued (and were counted): the read never entered the line.
    expect(seen.uncontended + seen.acquired).toBe(2);
  });

  it('a call that cannot have its turn within LOCK_WAIT_MS fails as a lock timeout, and the line goes on', async () => {
    const runs: Run[] = [];
    const { seen, observer } = counting();
    const locked = new LockedWallet(recordingWallet('a', runs, 100), redis, { waitMs: 150, ttlMs: 2000, prefix }, observer, log);
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => locked.execute(bet('slow'))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof LockTimeout)).toBe(true);
    expect(seen.timeout).toBe(2);
    await sleep(50);
    expect(await probe.get(keyOf('slow'))).toBeNull();
    await expect(locked.execute(bet('slow'))).resolves.toMatchObject({ type: 'ok' });
  });

  it("a vendor's call waits in line for as long as its deadline allows, not LOCK_WAIT_MS, and no longer", async () => {
    const runs: Run[] = [];
    const { seen, observer } = counting();
    // Each call takes 100 ms; LOCK_WAIT_MS (for retries and replays) is 50 ms.
    const locked = new LockedWallet(recordingWallet('a', runs, 100), redis, { waitMs: 50, ttlMs: 2000, prefix }, observer, log);
    const now = performance.now();
    const results = await Promise.allSettled([
      locked.execute(bet('deadline'), undefined, { deadline: now + 2000 }),
      // Third in line, it starts after ~200 ms: it has the time.
      locked.execute(bet('deadline'), undefined, { deadline: now + 2000 }),
      locked.execute(bet('deadline'), undefined, { deadline: now + 2000 }),
      // Its answer is due before its turn could come: it lets go at its deadline.
      locked.execute(bet('deadline'), undefined, { deadline: now + 150 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(LockTimeout);
    expect(runs).toHaveLength(3);
    expect(seen.timeout).toBe(1);
  });
});
