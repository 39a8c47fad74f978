import type { Db } from '../ledger/database.ts';
import type { AuditOutcome, AuditVia } from '../ledger/schema.ts';

/** Who did something: a person signed in to the console, a machine's bearer token, or the CLI on the host. */
export interface Actor {
  name: string;
  via: AuditVia;
  ip?: string | undefined;
}

export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  target?: string | undefined;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
}

/** What is audited: sign-ins (and failed ones) and every change of state. */
export const AUDIT_ACTIONS = [
  'sign_in',
  'sign_out',
  'replay',
  'bulk_replay',
  'import',
  'block',
  'unblock',
  'deposit',
  'withdrawal',
  'player_create',
  'vendor_register',
  'game_launch',
  'operator_add',
  'operator_disable',
  'operator_enable',
  'operator_role',
  'operator_passwd',
  'vendor_reconcile',
  'finding_resolve',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  outcome?: AuditOutcome | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  before?: bigint | undefined;
  limit: number;
}

/** The audit trail: insert-only in Postgres (a trigger refuses updates and deletes), newest first. */
export class Audit {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** `db`: a transaction of the caller's, when the entry must commit with what it records. */
  async record(e: AuditEntry, db: Db = this.#db): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        actor: e.actor.name.slice(0, 200),
        via: e.actor.via,
        ip: e.actor.ip ?? null,
        action: e.action,
        target: e.target?.slice(0, 500) ?? null,
        outcome: e.outcome,
        detail: JSON.stringify(e.detail ?? {}),
      })
      .execute();
  }

  list(f: AuditFilter) {
    let q = this.#db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.actor !== undefined) q = q.where('actor', '=', f.actor);
    if (f.action !== undefined) q = q.where('action', '=', f.action);
    if (f.target !== undefined) q = q.where('target', '=', f.target);
    if (f.outcome !== undefined) q = q.where('outcome', '=', f.outcome);
    if (f.since !== undefined) q = q.where('at', '>=', f.since);
    if (f.until !== undefined) q = q.where('at', '<', f.until);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    return q.execute();
  }

  /** Failed sign-ins since `since`, for a name and from an address: what the sign-in brake counts. */
  async failedSignIns(name: string, ip: string | undefined, since: Date): Promise<{ byName: number; byAddress: number }> {
    const row = await this.#db
      .selectFrom('audit_events')
      .select((eb) => [
        eb.fn.countAll<string>().filterWhere('actor', '=', name).as('by_name'),
        eb.fn.countAll<string>().filterWhere('ip', '=', ip ?? '').as('by_address'),
      ])
      .where('action', '=', 'sign_in')
      .where('outcome', '<>', 'ok')
      .where('at', '>=', since)
      .executeTakeFirstOrThrow();
    return { byName: Number(row.by_name), byAddress: Number(row.by_address) };
  }
}
