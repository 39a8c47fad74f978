import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { dialects } from '../../providers/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createDatabase, type Db } from '../../src/ledger/database.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { createLogger } from '../../src/logging.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import type { WebhookOutcome } from '../../src/ledger/schema.ts';
import { FAILED } from '../../src/webhooks/history.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import {
  Resources,
  sleep,
  spawnGateway,
  startPostgres,
  startRedis,
  waitFor,
  type GatewayProcess,
  type PostgresInstance,
  type RedisInstance,
} from './harness.ts';
import { isFailure, type Attempt, type CommandPlayer, type Reply } from '../../simulator/command-player.ts';

/**
 * One fault scenario's world: its own Postgres cluster and Redis, gateway processes on them, the
 * test's own connections for funding and checking, and the checks every scenario ends with.
 */

export const PROVIDER = 'scorpio-play';
export const TOKEN = 'demo-scorpio-play-callback-token';
/** The callback URL of the lab's vendor account on one gateway process. */
export const callbackUrl = (gateway: GatewayProcess) => `${gateway.url}/callbacks/${PROVIDER}`;
const USD = asCurrency('USD');
const DATABASE = 'croupier_faults';
const PREFIX = 'croupier-faults';

export interface Lab {
  resources: Resources;
  pg: PostgresInstance;
  redis: RedisInstance;
  gateways: GatewayProcess[];
  /** The settings every gateway process of this lab runs with (plus its own). */
  env: Record<string, string>;
  spawn(name: string, extra?: Record<string, string>): Promise<GatewayProcess>;
  /** The test's own pool on the lab's database (its idle connections survive a Postgres restart). */
  db(): Db;
  /** Each player's deposits, in minor units. */
  funding: Map<string, bigint>;
  fund(players: readonly string[], amount: bigint): Promise<void>;
  /** The gateway's objects built in this process on the lab's database and Redis (no HTTP, no workers): replays and queue depths. */
  inProcess(): Gateway;
  teardown(): Promise<void>;
}

export async function startLab(settings: Record<string, string> = {}): Promise<Lab> {
  const resources = new Resources();
  let db: Db | undefined;
  let inProcess: Gateway | undefined;
  try {
    const pg = await startPostgres(resources);
    const redis = await startRedis(resources);
    const env = {
      DATABASE_URL: pg.url(DATABASE),
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      // Parked work is retried within a second once the fault is gone.
      RETRY_MAX_BACKOFF_MS: '1000',
      ...settings,
    };
    const gateways: GatewayProcess[] = [];
    const funding = new Map<string, bigint>();
    const lab: Lab = {
      resources,
      pg,
      redis,
      gateways,
      env,
      async spawn(name, extra = {}) {
        const gateway = await spawnGateway(resources, name, { ...env, ...extra });
        gateways.push(gateway);
        return gateway;
      },
      db() {
        db ??= createDatabase({ url: env.DATABASE_URL, poolSize: 4, lockTimeoutMs: 5000, statementTimeoutMs: 30_000, onIdleError: () => {} });
        return db;
      },
      funding,
      async fund(players, amount) {
        const office = new BackOffice(lab.db());
        for (const player of players) {
          const created = await office.createPlayer(PlayerCode(player), [USD]);
          if (!created.ok) throw new Error(`creating ${player}: ${created.reason}`);
          const deposit = await office.cashier('deposit', PlayerCode(player), USD, amount, `fault-lab-fund:${player}`);
          if (!deposit.ok) throw new Error(`funding ${player}: ${deposit.reason}`);
          funding.set(player, (funding.get(player) ?? 0n) + amount);
        }
      },
      inProcess() {
        if (!inProcess) {
          const config = loadConfig({ NODE_ENV: 'test', SEED_DEMO: 'false', LOG_LEVEL: 'silent', WORKERS: 'false', ...env }, dialects);
          inProcess = createGateway(config, createLogger('silent'));
        }
        return inProcess;
      },
      async teardown() {
        try {
          // Bounded: closing its queues must not hang on a Redis a failed test left stopped.
          if (inProcess) await Promise.race([inProcess.close(), sleep(10_000)]);
        } finally {
          await db?.destroy();
          await resources.teardown();
        }
      },
    };
    return lab;
  } catch (error) {
    await resources.teardown().catch(() => {});
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// What a scenario reports

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export function replySummary(attempts: readonly Attempt[]) {
  const replies: Record<string, number> = {};
  for (const a of attempts) replies[`${a.call}:${String(a.reply)}`] = (replies[`${a.call}:${String(a.reply)}`] ?? 0) + 1;
  const latency: Record<string, { p50: number; p99: number; max: number }> = {};
  for (const command of ['bet', 'win', 'cancel'] as const) {
    const ms = attempts.filter((a) => a.call === command && typeof a.reply === 'number').map((a) => a.ms).sort((x, y) => x - y);
    latency[command] = { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: ms.at(-1) ?? 0 };
  }
  // Rule 9: the vendor's limits (2 s for a bet, 4 s for the rest); calls past them are the vendor's timeouts.
  const late = attempts.filter((a) => a.reply === 'timeout').map((a) => `${a.call} ${a.transId} of ${a.player} at ${Math.round(a.at)} ms`);
  return { replies, latency, pastVendorLimit: late.length, pastVendorLimitSamples: late.length > 5 ? [...late.slice(0, 3), '...', ...late.slice(-2)] : late };
}

// ---------------------------------------------------------------------------------------------
// Settling

/**
 * Waits (bounded) until every parked operation has been applied: the retries and history queues
 * are empty and no parked webhook is left unresolved.
 */
export async function settle(lab: Lab, timeoutMs: number): Promise<{ waitedMs: number }> {
  const started = Date.now();
  const gateway = lab.inProcess();
  const pending = async () => {
    const depth = await gateway.parking.depth();
    const queued = (['retries', 'history'] as const).reduce((n, q) => n + (depth[q]!.waiting ?? 0) + (depth[q]!.active ?? 0) + (depth[q]!.delayed ?? 0), 0);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhooks where outcome = 'parked' and resolved_at is null`.execute(lab.db());
    return { queued, unresolvedParked: rows[0]!.n, depth };
  };
  let last: Awaited<ReturnType<typeof pending>> | undefined;
  await waitFor(
    'the parked work to drain',
    async () => {
      last = await pending();
      return last.queued === 0 && last.unresolvedParked === 0;
    },
    timeoutMs,
    250,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  });
  // Nothing was given up on: a job that ran out of attempts sits in "failed".
  expect(last!.depth.retries!.failed ?? 0, 'parked operations that exhausted their attempts').toBe(0);
  expect(last!.depth.history!.failed ?? 0, 'history records that never reached Postgres').toBe(0);
  return { waitedMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// The checks every scenario ends with

interface TxRow {
  external_id: string;
  kind: string;
  status: string;
  amount: bigint;
  transfer_id: bigint | null;
  transfer_amount: bigint | null;
  transfer_kind: string | null;
  player: string;
}

interface RollbackRow {
  target_external_id: string;
  target_id: bigint | null;
  transfer_id: bigint | null;
  transfer_amount: bigint | null;
  transfer_kind: string | null;
  target_status: string | null;
  target_amount: bigint | null;
  player: string;
}

async function ledgerRows(db: Db) {
  const txs = await sql<TxRow>`
    select pt.external_id, pt.kind, pt.status, pt.amount, pt.transfer_id, t.amount as transfer_amount, t.kind as transfer_kind, p.code as player
    from provider_transactions pt join players p on p.id = pt.player_id left join transfers t on t.id = pt.transfer_id
    where pt.provider_id = ${PROVIDER}`.execute(db);
  const rollbacks = await sql<RollbackRow>`
    select r.target_external_id, r.target_id, r.transfer_id, t.amount as transfer_amount, t.kind as transfer_kind,
           pt.status as target_status, pt.amount as target_amount, p.code as player
    from rollbacks r join players p on p.id = r.player_id
    left join transfers t on t.id = r.transfer_id left join provider_transactions pt on pt.id = r.target_id
    where r.provider_id = ${PROVIDER}`.execute(db);
  return {
    tx: new Map(txs.rows.map((r) => [r.external_id, r])),
    rollback: new Map(rollbacks.rows.map((r) => [r.target_external_id, r])),
  };
}

async function walletBalances(db: Db): Promise<Map<string, bigint>> {
  const { rows } = await sql<{ code: string; balance: bigint }>`
    select p.code, a.balance from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = 'USD'`.execute(db);
  return new Map(rows.map((r) => [r.code, r.balance]));
}

/** Reconcile finds nothing wrong with the ledger. */
export async function expectCleanLedger(lab: Lab): Promise<void> {
  expect(await reconcile(lab.db())).toEqual([]);
}

/**
 * Every success answer has exactly one transfer: each bet/win answered 0 is one applied provider
 * transaction with its transfer of the amount sent; each cancel answered 0 has its rollback row,
 * with a reversing transfer exactly when its target had moved money.
 */
export async function expectSuccessAnswersCommitted(lab: Lab, vendor: CommandPlayer): Promise<number> {
  const { tx, rollback } = await ledgerRows(lab.db());
  const problems: string[] = [];
  let checked = 0;
  for (const a of vendor.attempts) {
    if (a.reply !== 0) continue;
    checked++;
    const where = `${a.call} ${a.transId} of ${a.player} answered 0`;
    if (a.call === 'bet' || a.call === 'win') {
      const row = tx.get(a.transId);
      if (!row) problems.push(`${where}: no provider transaction`);
      else if (row.status !== 'applied' || row.transfer_id === null) problems.push(`${where}: ${row.status}, transfer ${row.transfer_id}`);
      else if (row.kind !== (a.call === 'bet' ? 'debit' : 'credit') || row.amount !== a.amount || row.transfer_amount !== a.amount || row.player !== a.player) {
        problems.push(`${where}: recorded as ${JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
      }
    } else {
      const row = rollback.get(a.transId);
      if (!row) problems.push(`${where}: no rollback row`);
      else if (row.target_id === null) problems.push(`${where}: the rollback names no target (a cancel of a transaction never seen answers 42)`);
      else if ((row.target_status === 'applied') !== (row.transfer_id !== null)) problems.push(`${where}: target ${row.target_status}, reversal transfer ${row.transfer_id}`);
      else if (row.transfer_id !== null && row.transfer_amount !== row.target_amount) problems.push(`${where}: reversed ${row.transfer_amount} of ${row.target_amount}`);
    }
  }
  expect(problems).toEqual([]);
  return checked;
}

/**
 * Every parked webhook was resolved and its operation is in the ledger once: a parked win's
 * trans_id is one applied credit with its transfer, a parked cancel has its rollback row.
 */
export async function expectParkedAppliedOnce(lab: Lab): Promise<{ parked: number; credits: number; rollbacks: number }> {
  const { tx, rollback } = await ledgerRows(lab.db());
  const parked = await lab.inProcess().history.search({ outcomes: ['parked'], limit: 100_000 });
  const problems: string[] = [];
  let credits = 0;
  let rollbacks = 0;
  for (const row of parked) {
    const op = row.operation as { op?: string; txId?: string; target?: string; amount?: string } | null;
    const where = `parked webhook ${row.id} (${op?.op} ${op?.txId ?? op?.target})`;
    if (row.resolved_at === null) problems.push(`${where}: unresolved`);
    if (op?.op === 'credit') {
      credits++;
      const t = tx.get(op.txId!);
      if (!t || t.kind !== 'credit' || t.status !== 'applied' || t.transfer_id === null || String(t.transfer_amount) !== op.amount) problems.push(`${where}: not applied (${t?.status})`);
    } else if (op?.op === 'rollback') {
      rollbacks++;
      if (!rollback.has(op.target!)) problems.push(`${where}: no rollback row`);
    } else {
      problems.push(`${where}: an operation that is not owed was parked`);
    }
  }
  expect(problems).toEqual([]);
  return { parked: parked.length, credits, rollbacks };
}

/**
 * What the vendor was told agrees with the ledger, transaction by transaction: a bet the vendor
 * holds as standing is debited once and never reversed; a bet it cancelled moved nothing in the end;
 * every win it sent (money owed) is paid exactly once, and reversed exactly when it cancelled it.
 */
export async function expectVendorViewHolds(lab: Lab, vendor: CommandPlayer): Promise<void> {
  const { tx, rollback } = await ledgerRows(lab.db());
  const problems: string[] = [];
  const reversed = (id: string) => rollback.get(id)?.transfer_id != null;
  for (const bet of vendor.bets) {
    const row = tx.get(bet.transId);
    const debited = row?.status === 'applied';
    if (bet.ok && !bet.cancelled && (!debited || reversed(bet.transId))) problems.push(`standing bet ${bet.transId}: debited ${debited}, reversed ${reversed(bet.transId)}`);
    if (bet.cancelled && debited !== reversed(bet.transId)) problems.push(`cancelled bet ${bet.transId}: debited ${debited}, reversed ${reversed(bet.transId)}`);
    if (bet.cancelled && !rollback.has(bet.transId)) problems.push(`cancelled bet ${bet.transId}: its cancel is not in the ledger`);
  }
  for (const win of vendor.wins) {
    const row = tx.get(win.transId);
    if (row?.status !== 'applied' || row.amount !== win.amount) problems.push(`win ${win.transId} (${String(win.final)}): ${row ? `${row.status} ${row.amount}` : 'never applied'}`);
    if (win.cancelled !== reversed(win.transId)) problems.push(`win ${win.transId}: cancelled ${win.cancelled}, reversed ${reversed(win.transId)}`);
  }
  expect(problems).toEqual([]);
}

/**
 * Final balances equal a serial replay of the recorded history: each player's deposits plus its
 * applied provider transactions and reversals; and equal what the vendor's answers add up to.
 */
export async function expectBalancesReplay(lab: Lab, vendor: CommandPlayer): Promise<void> {
  const db = lab.db();
  const wallets = await walletBalances(db);
  const { rows } = await sql<{ code: string; replayed: bigint }>`
    select p.code,
      coalesce((select sum(case c.kind when 'deposit' then c.amount else -c.amount end) from cashier_operations c where c.player_id = p.id), 0)
      + coalesce((select sum(case t.kind when 'debit' then -t.amount when 'credit' then t.amount else 0 end)
                  from provider_transactions t where t.player_id = p.id and t.status = 'applied'), 0)
      + coalesce((select sum(case t.kind when 'debit' then t.amount when 'credit' then -t.amount else 0 end)
                  from rollbacks r join provider_transactions t on t.id = r.target_id where r.player_id = p.id and r.transfer_id is not null), 0)
      as replayed
    from players p`.execute(db);
  const fromLedger = new Map(rows.map((r) => [r.code, BigInt(r.replayed)]));

  // Each player's transfers in commit order never take the wallet below zero and end at its balance.
  const { rows: moves } = await sql<{ code: string; delta: bigint }>`
    select p.code, case when t.credit_account_id = a.id then t.amount else -t.amount end as delta
    from players p join accounts a on a.player_id = p.id and a.kind = 'player'
    join transfers t on t.debit_account_id = a.id or t.credit_account_id = a.id
    order by p.code, t.id`.execute(db);
  const running = new Map<string, bigint>();
  const negative: string[] = [];
  for (const m of moves) {
    const next = (running.get(m.code) ?? 0n) + m.delta;
    running.set(m.code, next);
    if (next < 0n) negative.push(m.code);
  }
  expect(negative).toEqual([]);

  // What the vendor's answers add up to: the funding plus the journal's expected change.
  const fromAnswers = new Map([...lab.funding].map(([player, funded]) => [player, funded + vendor.journal.expectedChange(player, 'USD')]));

  const table = [...lab.funding.keys()].map((player) => ({
    player,
    wallet: wallets.get(player),
    ledger: fromLedger.get(player),
    transfers: running.get(player),
    answers: fromAnswers.get(player),
  }));
  const wrong = table.filter((r) => !(r.wallet === r.ledger && r.wallet === r.transfers && r.wallet === r.answers));
  expect(wrong).toEqual([]);
}

/** Every call the gateway answered is in the webhook history (written later from Redis if Postgres was away). */
export async function expectHistoryKept(lab: Lab, vendor: CommandPlayer): Promise<{ vendorRows: number; answered: number }> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhooks where source = 'vendor' and provider_id = ${PROVIDER}`.execute(lab.db());
  const answered = vendor.attempts.filter((a) => typeof a.reply === 'number').length;
  const sent = vendor.attempts.filter((a) => a.endpoint !== '').length;
  expect(rows[0]!.n).toBeGreaterThanOrEqual(answered);
  expect(rows[0]!.n).toBeLessThanOrEqual(sent);
  return { vendorRows: rows[0]!.n, answered };
}

type Predicted = Extract<WebhookOutcome, 'ok' | 'duplicate' | 'refused'> | 'not_replayable';

/**
 * What replaying a failed webhook must give, read from the ledger as it is now (rules 1, 2, 3): a
 * repeat of an applied transaction is a duplicate, one refused or rolled back first is refused, a
 * cancel of a transaction never seen is refused; and a bet the vendor was told had failed is never
 * taken later (the vendor cancels it), so it is not replayable at all.
 */
async function predict(db: Db, row: { source: string; outcome: string; operation: unknown }): Promise<Predicted | 'unknown'> {
  const op = row.operation as { op?: string; provider?: string; txId?: string; target?: string } | null;
  if (op?.provider !== PROVIDER) return 'unknown';
  if (row.source === 'vendor' && row.outcome === 'fault' && op.op === 'debit') return 'not_replayable';
  const { tx, rollback } = await ledgerRows(db);
  if (op.op === 'debit' || op.op === 'credit') {
    const found = tx.get(op.txId!);
    if (found) return found.status === 'applied' ? 'duplicate' : 'refused';
    return rollback.has(op.txId!) ? 'refused' : 'ok';
  }
  if (op.op === 'rollback') {
    const marker = rollback.get(op.target!);
    if (marker) return marker.target_id === null ? 'refused' : 'duplicate';
    return tx.has(op.target!) ? 'ok' : 'refused';
  }
  return 'unknown';
}

export interface ReplayReport {
  failed: number;
  byOutcome: Record<string, number>;
  firstReplay: Record<string, number>;
  secondReplay: Record<string, number>;
}

/**
 * Every failed webhook is listed (the operators' search for fault/parked), each replays to the
 * outcome the ledger says it must, no parked one still moves money when replayed (its retry applied
 * it), every failure is settled afterwards, and a second replay of them all moves nothing.
 * `owedAlwaysParked`: with Redis up, no owed operation (win, cancel) may be left as a bare fault.
 */
export async function expectFailedWebhooksReplay(lab: Lab, vendor: CommandPlayer, owedAlwaysParked: boolean): Promise<ReplayReport> {
  const gateway = lab.inProcess();
  const db = lab.db();
  const failed = (await gateway.history.search({ outcomes: FAILED, limit: 100_000 })).reverse();
  const byOutcome: Record<string, number> = {};
  for (const row of failed) {
    const op = (row.operation as { op?: string } | null)?.op ?? 'none';
    byOutcome[`${row.outcome}:${op}`] = (byOutcome[`${row.outcome}:${op}`] ?? 0) + 1;
  }

  // Listed: every failure answer the vendor got is one of these rows, and each row answered a failure.
  const rowsPerKey = new Map<string, number>();
  for (const row of failed) {
    const op = (row.operation as { op?: string } | null)?.op;
    const command = op === 'debit' ? 'bet' : op === 'credit' ? 'win' : op === 'rollback' ? 'cancel' : op;
    rowsPerKey.set(`${command}:${row.transaction_id}`, (rowsPerKey.get(`${command}:${row.transaction_id}`) ?? 0) + 1);
    expect(JSON.parse(row.answer ?? '{}'), `failed webhook ${row.id}`).toMatchObject({ result: 99, status: 'ERROR' });
  }
  const answered99 = new Map<string, number>();
  for (const a of vendor.attempts) if (a.reply === 99) answered99.set(`${a.call}:${a.transId}`, (answered99.get(`${a.call}:${a.transId}`) ?? 0) + 1);
  const unlisted = [...answered99].filter(([key, n]) => (rowsPerKey.get(key) ?? 0) < n);
  expect(unlisted, 'failure answers with no failed webhook listed').toEqual([]);

  if (owedAlwaysParked) {
    const bare = failed.filter((r) => r.outcome === 'fault' && ['credit', 'rollback'].includes((r.operation as { op?: string } | null)?.op ?? ''));
    expect(bare.map((r) => `${r.id} ${r.transaction_id}: ${r.detail}`), 'owed operations that failed but were not parked').toEqual([]);
  }

  const firstReplay: Record<string, number> = {};
  const mismatches: string[] = [];
  for (const row of failed) {
    const expected = await predict(db, row);
    const result = await gateway.replayer.replay(row.id);
    firstReplay[result.outcome] = (firstReplay[result.outcome] ?? 0) + 1;
    if (result.outcome !== expected) mismatches.push(`${row.outcome} webhook ${row.id} (${row.transaction_id}): replay ${result.outcome}, the ledger says ${expected}`);
    if (row.outcome === 'parked' && result.outcome === 'ok') mismatches.push(`parked webhook ${row.id} (${row.transaction_id}) still moved money on replay`);
  }
  expect(mismatches).toEqual([]);
  // Every failure is settled, but the failed bets: the vendor cancelled those, they stay listed as they were.
  const unresolved = await gateway.history.search({ outcomes: FAILED, unresolved: true, limit: 100_000 });
  const unsettled = unresolved.filter((r) => !(r.outcome === 'fault' && (r.operation as { op?: string } | null)?.op === 'debit'));
  expect(unsettled.map((r) => `${r.id} ${r.outcome} ${r.transaction_id}`), 'failures left unresolved after the replay').toEqual([]);

  // A second replay of them all changes nothing.
  const before = await snapshot(db);
  const secondReplay: Record<string, number> = {};
  for (const row of failed) {
    const result = await gateway.replayer.replay(row.id);
    secondReplay[result.outcome] = (secondReplay[result.outcome] ?? 0) + 1;
  }
  expect(Object.keys(secondReplay).filter((o) => !['duplicate', 'refused', 'not_replayable'].includes(o))).toEqual([]);
  expect(await snapshot(db)).toEqual(before);
  return { failed: failed.length, byOutcome, firstReplay, secondReplay };
}

async function snapshot(db: Db) {
  const { rows } = await sql<{ transfers: string; balances: string; rollbacks: string; txs: string }>`
    select (select count(*) from transfers)::text as transfers,
           (select string_agg(id || '=' || balance, ',' order by id) from accounts) as balances,
           (select count(*) from rollbacks)::text as rollbacks,
           (select count(*) from provider_transactions)::text as txs`.execute(db);
  return rows[0];
}

/**
 * Makes one player's wallet operations fault on demand: holds the player's wallet row locked from
 * the test's own connection for `ms`, so the gateway's operations on it run into their row-lock
 * timeout (or their turn at the player's lock) and answer a failure.
 */
export async function holdWalletRow(lab: Lab, player: string, ms: number): Promise<void> {
  await lab
    .db()
    .transaction()
    .execute(async (trx) => {
      await sql`select a.id from accounts a join players p on p.id = a.player_id where p.code = ${player} and a.kind = 'player' for update of a`.execute(trx);
      await sleep(ms);
    });
}

/** Every gateway still running says (again) that it reaches Postgres and Redis. */
export async function expectHealthy(lab: Lab, timeoutMs = 15_000): Promise<void> {
  for (const gateway of lab.gateways.filter((g) => !g.exit())) {
    await waitFor(`${gateway.name} healthy`, async () => (await fetch(`${gateway.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200, timeoutMs, 200);
  }
}

/** A gateway that was not killed on purpose is still running (a fault elsewhere must not crash it). */
export function expectAlive(lab: Lab): void {
  const crashed = lab.gateways.filter((g) => g.exit() && !g.killedByTest());
  const tail = (g: GatewayProcess) =>
    g
      .output()
      .split('\n')
      .slice(-25)
      .map((line) => (line.length > 300 ? `${line.slice(0, 300)}...` : line))
      .join('\n');
  expect(crashed.map((g) => `${g.name} exited ${JSON.stringify(g.exit())}:\n${tail(g)}`)).toEqual([]);
}

/** Counts of the vendor's operations and attempts, for the report. */
export function vendorSummary(vendor: CommandPlayer) {
  const failures = vendor.attempts.filter((a) => isFailure(a.reply)).length;
  const gaveUp = (final: Reply | 'gave_up') => final === 'gave_up';
  return {
    operations: vendor.bets.length + vendor.wins.length + vendor.cancels.length,
    bets: vendor.bets.length,
    wins: vendor.wins.length,
    cancels: vendor.cancels.length,
    attempts: vendor.attempts.length,
    failureAnswers: failures,
    duplicatesSent: vendor.attempts.filter((a) => a.copy === 1).length,
    retries: vendor.attempts.filter((a) => a.retry > 0).length,
    betsCancelledAfterFailure: vendor.bets.filter((b) => !b.ok && b.cancelled).length,
    winsGivenUp: vendor.wins.filter((w) => gaveUp(w.final)).length,
    cancelsGivenUp: vendor.cancels.filter((c) => gaveUp(c.final)).length,
  };
}

/**
 * A scenario's full summary goes to test-results/faults/<scenario>.json (kept for whoever reads a
 * failure or a figure later); the test log gets one line with the headline and the file's path.
 */
export function report(summary: { scenario: string; rounds?: unknown; vendor?: unknown; [key: string]: unknown }): void {
  const dir = path.resolve('test-results/faults');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${summary.scenario.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()}.json`);
  writeFileSync(file, `${JSON.stringify(summary, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value), 1)}\n`);
  const calls = (summary.vendor as { attempts?: unknown } | undefined)?.attempts;
  console.log(`fault scenario "${summary.scenario}": ${JSON.stringify(summary.rounds ?? '')} rounds${calls === undefined ? '' : `, ${String(calls)} vendor calls`}, ledger clean; summary in ${path.relative(process.cwd(), file)}`);
}
