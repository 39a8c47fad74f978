import { Kysely, PostgresDialect, type CompiledQuery, type Transaction } from 'kysely';
import pg from 'pg';
import { AHEAD, LedgerClient, PREPARED } from './client.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Longest wait for a row lock; past it the operation fails fast instead of outliving the vendor's deadline. */
  lockTimeoutMs: number;
  /** Longest statement. 0: no limit (maintenance commands). */
  statementTimeoutMs: number;
  /** Longest wait for a pooled connection: under saturation a call fails in time rather than answering late. */
  poolWaitMs?: number;
  /** Told when an idle pooled connection dies (a Postgres restart): the pool replaces it; the process goes on. */
  onIdleError?: (error: Error) => void;
  /**
   * Plan every statement on an index where one serves it (enable_seqscan off). The wallet's statements
   * are prepared, and a plan made while a table was young (a fresh ledger's first minute, when a scan
   * of a few rows is cheapest) stays with the connection: it then scans the whole table on every call
   * as the table grows, until an ANALYZE replans it. This keeps out the sequential scan, not a scan of
   * a whole index (seen in the wallet snapshot's plan): the ANALYZE that ends those is autovacuum's, or
   * the statistics upkeep's where autovacuum is off (statistics.ts). For the gateway's lookups, never
   * for maintenance (reconcile reads whole tables).
   */
  preferIndexes?: boolean;
}

const INT8 = 20;

/** int8 columns come back as bigint: money never passes through a JS number. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

type Compilable<R> = { compile(db: Db | Transaction<Database>): CompiledQuery<R> };

/** `query` (a builder's or a sql`` template's) compiled for `db`, marked to be prepared on the server (see LedgerClient). */
export function prepared<R>(query: Compilable<R>, db: Db | Transaction<Database>): CompiledQuery<R> {
  const compiled = query.compile(db);
  return { ...compiled, sql: PREPARED + compiled.sql };
}

/**
 * A prepared read whose rows nobody needs (it takes a row lock), answered at once with no rows and
 * sent with the next statement (see LedgerClient); its failure is that statement's.
 */
export function ahead(query: Compilable<unknown>, db: Db | Transaction<Database>): CompiledQuery<unknown> {
  const compiled = query.compile(db);
  return { ...compiled, sql: AHEAD + compiled.sql };
}

export function createPool(options: DatabaseOptions): pg.Pool {
  const pool = new pg.Pool({
    Client: LedgerClient,
    connectionString: options.url,
    max: options.poolSize,
    types,
    lock_timeout: options.lockTimeoutMs,
    ...(options.statementTimeoutMs > 0 ? { statement_timeout: options.statementTimeoutMs } : {}),
    connectionTimeoutMillis: options.poolWaitMs ?? 10_000,
    // A connection, once open, stays open. node-postgres closes one idle for 10 s by default, and the
    // next burst of calls then opens them again all at once: Postgres starts its backends one after
    // the other (20 at once took 190-330 ms each on the 2-core machine, up to 480 ms with other work
    // running), and each start counts against the wait above (DB_POOL_WAIT_MS), so the calls that
    // needed one failed. Each bench run after pgbench's idle half-minute began that way (docs/performance.md).
    idleTimeoutMillis: 0,
    application_name: 'croupier',
    ...(options.preferIndexes ? { options: '-c enable_seqscan=off' } : {}),
  });
  // Unhandled, this event would crash the process on any restart of the database.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens for errors only on idle clients: a client checked out (in a transaction) when the
  // server goes away emits 'error' with no listener, which crashes the process. Its query or
  // transaction already fails with the same error, and the pool discards the broken client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

const pools = new WeakMap<Db, pg.Pool>();

export function createDatabase(options: DatabaseOptions): Db {
  return databaseOn(createPool(options));
}

/** The database over a pool made by `createPool` (for a caller that needs the pool itself, e.g. to listen to its clients). */
export function databaseOn(pool: pg.Pool): Db {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

/** The pool behind a database made by `createDatabase` (undefined for any other). */
export const poolOf = (db: Db): pg.Pool | undefined => pools.get(db);

const onClients = new WeakMap<pg.PoolClient, Db>();

/**
 * Statements on one checked-out connection, not serialised: a Kysely transaction runs its statements
 * one at a time (each waits for the one before to be answered), while the wallet's transactions (one
 * operation's, or a group's) send theirs as they come and the connection pipelines them. The caller
 * runs BEGIN and COMMIT itself and releases the connection.
 */
export function onClient(client: pg.PoolClient): Db {
  let db = onClients.get(client);
  if (!db) {
    const borrowed = { query: client.query.bind(client), release: () => {} } as unknown as pg.PoolClient;
    const pool = { connect: async () => borrowed, end: async () => {} } as unknown as pg.Pool;
    onClients.set(client, (db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })));
  }
  return db;
}

/** Postgres error codes the ledger relies on. */
export const PgError = {
  uniqueViolation: '23505',
  checkViolation: '23514',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  lockNotAvailable: '55P03',
  queryCanceled: '57014',
  /** A statement after one that failed, in the same transaction. */
  inFailedTransaction: '25P02',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** How many times a transaction that lost a race (see lostRace) is run in all. */
const MAX_ATTEMPTS = 3;

/**
 * The transaction lost a race the database settled: a deadlock, a serialization failure, or one of
 * `raceKeys` (unique constraints a concurrent transaction took first). Run again, it sees the winner's row.
 */
export function lostRace(error: unknown, raceKeys: ReadonlySet<string>): boolean {
  const code = pgErrorCode(error);
  return (
    code === PgError.deadlockDetected ||
    code === PgError.serializationFailure ||
    (code === PgError.uniqueViolation && raceKeys.has(pgConstraint(error) ?? ''))
  );
}

/** Runs `attempt` (one transaction) again while it loses races (see lostRace), up to MAX_ATTEMPTS in all. */
export async function untilNoRace<T>(raceKeys: ReadonlySet<string>, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (n < MAX_ATTEMPTS && lostRace(error, raceKeys)) continue;
      throw error;
    }
  }
}

/** Runs `work` in one transaction; one that lost a race (see lostRace) runs again. */
export function transact<T>(db: Db, raceKeys: ReadonlySet<string>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return untilNoRace(raceKeys, () => db.transaction().execute(work));
}
