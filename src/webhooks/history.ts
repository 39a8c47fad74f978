import { randomUUID } from 'node:crypto';
import { sql, type InsertQueryBuilder, type Selectable, type Transaction } from 'kysely';
import { prepared, type Db } from '../ledger/database.ts';
import type { Database, WebhookOutcome, WebhookSource, WebhooksTable } from '../ledger/schema.ts';
import { storableJson, storableText } from '../ledger/storable.ts';

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
}

export const newCaptureId = () => randomUUID();

/** Values JSON cannot carry as they are (bigint) become text, for storage and display. */

export class WebhookHistory {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Stores a record; a second write of one capture keeps one row, holding what was written last: a
   * late flush after an outage, or the fault a vendor was answered after a COMMIT whose outcome it
   * never learnt (the row that COMMIT may have written said otherwise). Returns its id.
   */
  async record(r: WebhookRecord): Promise<bigint> {
    const insert = this.#insert(r, this.#db)
      .onConflict((oc) =>
        oc.column('capture_id').doUpdateSet((eb) => ({
          outcome: eb.ref('excluded.outcome'),
          detail: eb.ref('excluded.detail'),
          answer: eb.ref('excluded.answer'),
          duration_ms: eb.ref('excluded.duration_ms'),
        })),
      )
      .returning('id');
    const { id } = await this.#settling(r, insert, this.#db).executeTakeFirstOrThrow();
    return id;
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
    if (of === undefined || FAILED.includes(r.outcome)) return insert;
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
    return executor.insertInto('webhooks').values({
      capture_id: r.captureId,
      provider_id: r.provider,
      received_at: r.receivedAt,
      source: r.source,
      // Whatever bytes the call carried, its record is storable: the raw body as bytes, the rest made so.
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
    });
  }

  get(id: bigint): Promise<WebhookRow | undefined> {
    return this.#db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  search(f: WebhookFilter): Promise<WebhookRow[]> {
    let q = this.#db.selectFrom('webhooks').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.provider !== undefined) q = q.where('provider_id', '=', f.provider);
    if (f.player !== undefined) q = q.where('player_code', '=', f.player);
    if (f.transactionId !== undefined) q = q.where('transaction_id', '=', f.transactionId);
    if (f.outcomes?.length) q = q.where('outcome', 'in', f.outcomes);
    if (f.unresolved) q = q.where('outcome', 'in', FAILED).where('resolved_at', 'is', null);
    if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('received_at', '<', f.until);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    return q.execute();
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
