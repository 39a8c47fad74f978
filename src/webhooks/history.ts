import { randomUUID } from 'node:crypto';
import { sql, type InsertQueryBuilder, type Selectable, type SelectQueryBuilder, type Transaction } from 'kysely';
import { prepared, type Db } from '../ledger/database.ts';
import type { Database, WebhookOutcome, WebhookSource, WebhooksTable } from '../ledger/schema.ts';
import { storableJson, storableText } from '../ledger/storable.ts';
import { OWED, type WalletOperation } from '../wallet/types.ts';

/**
 * Headers that look like credentials whatever the dialect (a safety net under what each adapter
 * declares): kept by name, never by value.
 */
const SECRET_HEADER = /token|key|secret|authorization|cookie|signature|password/i;

/** The headers with every credential's value replaced: those `credentials` names (lower case) and those that look like one. */
export function redactHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, credentials: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADER.test(name) || credentials.includes(name.toLowerCase()) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** One webhook as kept: what arrived, what it meant, what happened, what was answered. */
export interface WebhookRecord {
  captureId: string;
  provider: string;
  receivedAt: Date;
  source: WebhookSource;
  /** Already redacted. */
  headers: Record<string, string>;
  body: Buffer;
  /** Where under the provider's webhook address it came ('' for a dialect with one address). */
  path?: string | undefined;
  /** The body is the decoded payload (an import of a vendor's export), not the wire form. */
  plaintext?: boolean | undefined;
  payload?: unknown;
  operation?: unknown;
  player?: string | undefined;
  transactionId?: string | undefined;
  outcome: WebhookOutcome;
  detail?: string | undefined;
  answer?: string | undefined;
  durationMs: number;
  replayOf?: bigint | undefined;
}

/** A webhook as the history holds it. */
export type WebhookRow = Selectable<WebhooksTable>;

export const FAILED: readonly WebhookOutcome[] = ['fault', 'parked'];

export interface WebhookFilter {
  provider?: string;
  player?: string;
  transactionId?: string;
  outcomes?: readonly WebhookOutcome[];
  /** Only failures no retry or replay has settled yet. */
  unresolved?: boolean;
  since?: Date;
  until?: Date;
  limit: number;
  /** Pages backwards: only ids below this one. */
  before?: bigint;
  /** Pages forwards, oldest first: only ids above this one. */
  after?: bigint;
}

export const newCaptureId = () => randomUUID();

/**
 * A retry or replay that the wallet answered settles the failure it re-ran: its record marks that one
 * resolved. One rejected before the wallet (a body that no longer decrypts under a rotated key) moved
 * nothing and decided nothing: the failure stays open.
 */
const settles = (r: WebhookRecord): boolean => r.replayOf !== undefined && !FAILED.includes(r.outcome) && r.outcome !== 'rejected';

/**
 * A fault that leaves nothing to settle: a bet (answered as failed, never taken later: the vendor
 * cancels it) or a read (authenticate, balance, status). It is kept as the fault it was, settled as it
 * is written, so the inbox and the failure count hold only what a retry or a replay can still settle.
 */
const nothingOwed = (r: WebhookRecord): boolean => {
  const op = (r.operation as { op?: WalletOperation['op'] } | undefined)?.op;
  return r.outcome === 'fault' && op !== undefined && !OWED.has(op);
};

/** A record as its row: whatever bytes the call carried, the row is storable (the raw body as bytes, the rest made so). */
function rowOf(r: WebhookRecord) {
  return {
    capture_id: r.captureId,
    provider_id: r.provider,
    received_at: r.receivedAt,
    source: r.source,
    headers: storableJson(r.headers),
    body: r.body,
    path: r.path ?? '',
    plaintext: r.plaintext === true,
    payload: r.payload === undefined ? null : storableJson(r.payload),
    operation: r.operation === undefined ? null : storableJson(r.operation),
    player_code: r.player === undefined ? null : storableText(r.player),
    transaction_id: r.transactionId === undefined ? null : storableText(r.transactionId),
    outcome: r.outcome,
    detail: r.detail === undefined ? null : storableText(r.detail),
    answer: r.answer === undefined ? null : storableText(r.answer),
    duration_ms: Math.round(r.durationMs),
    replay_of: r.replayOf ?? null,
    ...(nothingOwed(r) ? { resolved_at: r.receivedAt } : {}),
  };
}

/** A record waiting for the next write of records kept outside a wallet operation (see WebhookHistory.record). */
interface Pending {
  record: WebhookRecord;
  resolve: (id: bigint) => void;
  reject: (error: unknown) => void;
}

/** The most records one statement writes (their bodies travel in it). */
const MOST_PER_WRITE = 100;

export class WebhookHistory {
  readonly #db: Db;
  /** Records waiting to be written, in arrival order, and whether a write is under way (see record). */
  readonly #pending: Pending[] = [];
  #writing = false;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Stores a record; a second write of one capture keeps one row, holding what was written last: a
   * late flush after an outage, or the fault a vendor was answered after a COMMIT whose outcome it
   * never learnt (the row that COMMIT may have written said otherwise). Returns its id.
   *
   * These are the records written outside a wallet operation: calls refused, rejected or failed, and
   * most of them come when the gateway is overloaded or the database is slow, hundreds a second. Each
   * in a transaction of its own, they cost a disk flush each and a pooled connection each, at the
   * moment neither is to spare: the time they took was taken from the calls that could still be
   * served, more calls failed, and an open loop at 70% of the gateway's peak fell to a third of it
   * and stayed there (docs/performance.md). So one write is under way at a time, and the records
   * that come meanwhile go in the next one, together: one statement, one commit. A record that comes
   * while nothing is written goes at once.
   */
  record(r: WebhookRecord): Promise<bigint> {
    // A retry or replay that settles a failure marks it in the same statement: that one goes alone.
    if (settles(r)) return this.#writeOne(r);
    return new Promise((resolve, reject) => {
      this.#pending.push({ record: r, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#pending.length > 0) await this.#write(this.#next());
    } finally {
      this.#writing = false;
    }
  }

  /** The records of the next write, oldest first; a second write of a capture waits for the write after (it must land last). */
  #next(): Pending[] {
    const captures = new Set<string>();
    let n = 0;
    while (n < this.#pending.length && n < MOST_PER_WRITE && !captures.has(this.#pending[n]!.record.captureId)) {
      captures.add(this.#pending[n]!.record.captureId);
      n++;
    }
    return this.#pending.splice(0, n);
  }

  /** Writes records together; if that fails, each alone, so that one record the database refuses fails only its own call. */
  async #write(batch: readonly Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const rows = await this.#upsert(this.#insertMany(batch.map((p) => p.record), this.#db)).returning(['id', 'capture_id']).execute();
        const ids = new Map(rows.map((row) => [row.capture_id, row.id]));
        for (const p of batch) {
          const id = ids.get(p.record.captureId);
          if (id === undefined) p.reject(new Error(`the history write returned no row for capture ${p.record.captureId}`));
          else p.resolve(id);
        }
        return;
      } catch {
        // each alone, below (at once: with the database away, each fails as soon as it would have alone)
      }
    }
    await Promise.all(batch.map((p) => this.#writeOne(p.record).then(p.resolve, p.reject)));
  }

  async #writeOne(r: WebhookRecord): Promise<bigint> {
    const { id } = await this.#settling(r, this.#upsert(this.#insert(r, this.#db)).returning('id'), this.#db).executeTakeFirstOrThrow();
    return id;
  }

  /** A second write of a capture replaces what the first said happened. */
  #upsert(insert: InsertQueryBuilder<Database, 'webhooks', Record<never, never>>) {
    return insert.onConflict((oc) =>
      oc.column('capture_id').doUpdateSet((eb) => ({
        outcome: eb.ref('excluded.outcome'),
        detail: eb.ref('excluded.detail'),
        answer: eb.ref('excluded.answer'),
        duration_ms: eb.ref('excluded.duration_ms'),
      })),
    );
  }

  /**
   * Stores the record of a call just captured inside `trx`, the transaction of the money it
   * describes, in one statement: it commits with that money or not at all.
   */
  async recordIn(trx: Db, r: WebhookRecord): Promise<bigint> {
    const { rows } = await trx.executeQuery(prepared(this.#settling(r, this.#insert(r, trx).returning('id'), trx), trx));
    return rows[0]!.id;
  }

  /**
   * The insert of a retry or replay that settled its failure marks that failure (and its failed
   * re-runs) resolved in the same statement: a record is never kept without its resolution.
   */
  #settling(r: WebhookRecord, insert: InsertQueryBuilder<Database, 'webhooks', { id: bigint }>, executor: Db | Transaction<Database>) {
    const of = r.replayOf;
    if (of === undefined || !settles(r)) return insert;
    return executor
      .with('kept', () => insert)
      .with('settled', (db) =>
        db
          .updateTable('webhooks')
          .set({ resolved_at: sql<Date>`now()`, resolved_by: sql<bigint>`(select id from kept)` })
          .where((eb) => eb.or([eb('id', '=', of), eb('replay_of', '=', of)]))
          .where('outcome', 'in', FAILED)
          .where('resolved_at', 'is', null)
          .returning('webhooks.id'),
      )
      .selectFrom('kept')
      .select('kept.id');
  }

  #insert(r: WebhookRecord, executor: Db | Transaction<Database>) {
    return this.#insertMany([r], executor);
  }

  #insertMany(records: readonly WebhookRecord[], executor: Db | Transaction<Database>) {
    return executor.insertInto('webhooks').values(records.map(rowOf));
  }

  get(id: bigint): Promise<WebhookRow | undefined> {
    return this.#db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The matching webhooks, newest first; with `after`, oldest first. */
  search(f: WebhookFilter): Promise<WebhookRow[]> {
    return this.#matching(this.#db.selectFrom('webhooks').selectAll(), f)
      .orderBy('id', f.after === undefined ? 'desc' : 'asc')
      .limit(f.limit)
      .execute();
  }

  /** How many webhooks match (`limit` aside). */
  async count(f: Omit<WebhookFilter, 'limit'>): Promise<number> {
    const row = await this.#matching(this.#db.selectFrom('webhooks').select((eb) => eb.fn.countAll<string>().as('n')), f).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  #matching<Q extends SelectQueryBuilder<Database, 'webhooks', object>>(query: Q, f: Omit<WebhookFilter, 'limit'>): Q {
    let q = query as SelectQueryBuilder<Database, 'webhooks', object>;
    if (f.provider !== undefined) q = q.where('provider_id', '=', f.provider);
    if (f.player !== undefined) q = q.where('player_code', '=', f.player);
    if (f.transactionId !== undefined) q = q.where('transaction_id', '=', f.transactionId);
    if (f.outcomes?.length) q = q.where('outcome', 'in', f.outcomes);
    if (f.unresolved) q = q.where('outcome', 'in', FAILED).where('resolved_at', 'is', null);
    if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('received_at', '<', f.until);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    if (f.after !== undefined) q = q.where('id', '>', f.after);
    return q as Q;
  }

  async countUnresolvedFailures(): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from webhooks where outcome in ('fault', 'parked') and resolved_at is null`.execute(this.#db);
    return rows[0]?.n ?? 0;
  }

  /** Deletes records older than `before`, in batches so a large purge never holds long locks. */
  async purge(before: Date, batch = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const { rows } = await sql<{ n: number }>`
        with gone as (
          delete from webhooks where id in (select id from webhooks where received_at < ${before} order by id limit ${batch}) returning 1
        )
        select count(*)::int as n from gone`.execute(this.#db);
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < batch) return total;
    }
  }
}
