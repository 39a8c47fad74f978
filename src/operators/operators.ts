import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../ledger/database.ts';
import type { Role } from '../ledger/schema.ts';
import { pgErrorCode, PgError } from '../ledger/database.ts';
import type { Actor, Audit } from './audit.ts';
import { hashPassword, NO_ONE, verifyPassword, weakPassword } from './passwords.ts';
import { Turns, TurnTimeout, type TurnTaker } from './turns.ts';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

/** Whether `role` may do what `needed` may: viewer < operator < admin. */
export const allows = (role: Role, needed: Role) => ROLES.indexOf(role) >= ROLES.indexOf(needed);

export const OPERATOR_NAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export interface OperatorView {
  name: string;
  role: Role;
  status: 'active' | 'disabled';
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionPolicy {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, used or not. */
  absoluteMs: number;
  /** Failed sign-ins in `brakeWindowMs` after which a name is refused, even with the right password. */
  maxFailuresPerName: number;
  /** The same from one address, whatever names it tries. */
  maxFailuresPerAddress: number;
  brakeWindowMs: number;
}

export interface Session {
  operator: { name: string; role: Role };
  csrf: string;
  expiresAt: Date;
}

export type OperatorRefusal = 'invalid_name' | 'weak_password' | 'exists' | 'unknown_operator' | 'last_admin';
export type Result<T> = { ok: true; value: T } | { ok: false; reason: OperatorRefusal; message: string };

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const refuse = <T>(reason: OperatorRefusal, message: string): Result<T> => ({ ok: false, reason, message });

/**
 * Operator accounts, console sessions and the sign-in brake. Every change is written to the audit
 * trail by the caller's actor; a sign-in by itself (it is its own actor).
 */
export class Operators {
  readonly #db: Db;
  readonly #audit: Audit;
  readonly #policy: SessionPolicy;
  /**
   * Sign-ins of one name, or from one address, one after the other: each is braked by the failures
   * before it. The gateway's are shared by its processes (SharedTurns); by default, this process's.
   */
  readonly #signIns: TurnTaker;

  constructor(db: Db, audit: Audit, policy: SessionPolicy, signIns: TurnTaker = new Turns()) {
    this.#db = db;
    this.#audit = audit;
    this.#policy = policy;
    this.#signIns = signIns;
  }

  async list(): Promise<OperatorView[]> {
    const rows = await this.#db.selectFrom('operators').select(['name', 'role', 'status', 'created_at', 'updated_at']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, role: r.role, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async count(): Promise<number> {
    const row = await this.#db.selectFrom('operators').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async add(by: Actor, name: string, role: Role, password: string): Promise<Result<OperatorView>> {
    const refused = async (reason: OperatorRefusal, message: string) => {
      await this.#audit.record({ actor: by, action: 'operator_add', target: name, outcome: 'refused', detail: { role, reason } });
      return refuse<OperatorView>(reason, message);
    };
    if (!OPERATOR_NAME.test(name)) return refused('invalid_name', 'an operator name is 2-64 characters: lower-case letters, digits and . _ @ -, starting with a letter or digit');
    const weak = weakPassword(password);
    if (weak) return refused('weak_password', weak);
    const hash = await hashPassword(password);
    try {
      const row = await this.#db
        .insertInto('operators')
        .values({ name, role, password_hash: hash })
        .returning(['name', 'role', 'status', 'created_at', 'updated_at'])
        .executeTakeFirstOrThrow();
      await this.#audit.record({ actor: by, action: 'operator_add', target: name, outcome: 'ok', detail: { role } });
      return { ok: true, value: { name: row.name, role: row.role, status: row.status, createdAt: row.created_at, updatedAt: row.updated_at } };
    } catch (error) {
      if (pgErrorCode(error) === PgError.uniqueViolation) {
        return refused('exists', `operator ${name} exists`);
      }
      throw error;
    }
  }

  /** Disables (every session of the account ends) or enables an account. The last active admin stays. */
  async setStatus(by: Actor, name: string, status: 'active' | 'disabled'): Promise<Result<OperatorView>> {
    return this.#change(by, name, status === 'disabled' ? 'operator_disable' : 'operator_enable', { status }, status === 'disabled');
  }

  async setRole(by: Actor, name: string, role: Role): Promise<Result<OperatorView>> {
    return this.#change(by, name, 'operator_role', { role }, true);
  }

  /** A new password ends every session of the account. */
  async passwd(by: Actor, name: string, password: string): Promise<Result<OperatorView>> {
    const weak = weakPassword(password);
    if (weak) {
      await this.#audit.record({ actor: by, action: 'operator_passwd', target: name, outcome: 'refused', detail: { reason: 'weak_password' } });
      return refuse('weak_password', weak);
    }
    return this.#change(by, name, 'operator_passwd', { password_hash: await hashPassword(password) }, true);
  }

  async #change(
    by: Actor,
    name: string,
    action: 'operator_disable' | 'operator_enable' | 'operator_role' | 'operator_passwd',
    set: { status?: 'active' | 'disabled'; role?: Role; password_hash?: string },
    endSessions: boolean,
  ): Promise<Result<OperatorView>> {
    const result = await this.#db.transaction().execute(async (trx): Promise<Result<OperatorView>> => {
      // Serialises changes of accounts, so two admins cannot demote each other at once and leave none.
      const all = await trx.selectFrom('operators').select(['id', 'name', 'role', 'status']).orderBy('id').forUpdate().execute();
      const target = all.find((o) => o.name === name);
      if (!target) return refuse('unknown_operator', `no operator ${name}`);
      const staysAdmin = (set.status ?? target.status) === 'active' && (set.role ?? target.role) === 'admin';
      const otherAdmins = all.filter((o) => o.name !== name && o.role === 'admin' && o.status === 'active').length;
      if (target.role === 'admin' && target.status === 'active' && !staysAdmin && otherAdmins === 0) {
        return refuse('last_admin', `${name} is the last active admin`);
      }
      const row = await trx
        .updateTable('operators')
        .set({ ...set, updated_at: new Date() })
        .where('id', '=', target.id)
        .returning(['name', 'role', 'status', 'created_at', 'updated_at'])
        .executeTakeFirstOrThrow();
      if (endSessions) await trx.updateTable('operator_sessions').set({ ended_at: new Date() }).where('operator_id', '=', target.id).where('ended_at', 'is', null).execute();
      return { ok: true, value: { name: row.name, role: row.role, status: row.status, createdAt: row.created_at, updatedAt: row.updated_at } };
    });
    const detail = action === 'operator_passwd' ? {} : { ...set };
    await this.#audit.record({ actor: by, action, target: name, outcome: result.ok ? 'ok' : 'refused', detail: result.ok ? detail : { ...detail, reason: result.reason } });
    return result;
  }

  /**
   * A console sign-in: the session's cookie token (given out once, kept only as its hash) and its
   * CSRF secret; or why not. Too many recent failures for the name or from the address refuse even
   * the right password until the window passes. Every attempt is audited.
   */
  async signIn(
    name: string,
    password: string,
    from: { ip?: string | undefined; userAgent?: string | undefined },
  ): Promise<{ ok: true; token: string; session: Session } | { ok: false; reason: 'bad_credentials' | 'braked' }> {
    const actor: Actor = { name: name.slice(0, 64), via: 'console', ip: from.ip };
    try {
      return await this.#signIns.run([`name:${actor.name}`, `ip:${from.ip ?? ''}`], () => this.#signIn(actor, name, password, from));
    } catch (error) {
      if (!(error instanceof TurnTimeout)) throw error;
      // Other processes are that busy with this name or address: a burst, refused as one.
      await this.#audit.record({ actor, action: 'sign_in', outcome: 'refused', detail: { reason: 'busy' } });
      return { ok: false, reason: 'braked' };
    }
  }

  async #signIn(
    actor: Actor,
    name: string,
    password: string,
    from: { ip?: string | undefined; userAgent?: string | undefined },
  ): Promise<{ ok: true; token: string; session: Session } | { ok: false; reason: 'bad_credentials' | 'braked' }> {
    const since = new Date(Date.now() - this.#policy.brakeWindowMs);
    const failures = await this.#audit.failedSignIns(actor.name, from.ip, since);
    if (failures.byName >= this.#policy.maxFailuresPerName || failures.byAddress >= this.#policy.maxFailuresPerAddress) {
      await this.#audit.record({ actor, action: 'sign_in', outcome: 'refused', detail: { reason: 'braked' } });
      return { ok: false, reason: 'braked' };
    }
    const row = await this.#db.selectFrom('operators').select(['id', 'name', 'role', 'status', 'password_hash']).where('name', '=', name).executeTakeFirst();
    // An unknown name costs the same scrypt as a known one: the answer's time does not tell which names exist.
    const matches = await verifyPassword(password, row?.password_hash ?? NO_ONE);
    if (!row || !matches || row.status !== 'active') {
      await this.#audit.record({ actor, action: 'sign_in', outcome: 'refused', detail: { reason: !row ? 'unknown_operator' : !matches ? 'wrong_password' : 'disabled' } });
      return { ok: false, reason: 'bad_credentials' };
    }
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.#policy.absoluteMs);
    await this.#db
      .insertInto('operator_sessions')
      .values({ token_hash: hashToken(token), operator_id: row.id, csrf, expires_at: expiresAt, ip: from.ip ?? null, user_agent: from.userAgent?.slice(0, 300) ?? null })
      .execute();
    await this.#audit.record({ actor, action: 'sign_in', outcome: 'ok', detail: { role: row.role } });
    return { ok: true, token, session: { operator: { name: row.name, role: row.role }, csrf, expiresAt } };
  }

  /** The live session of a cookie token (its use now recorded), or undefined: ended, idle too long, past its end, or its account disabled. */
  async session(token: string): Promise<Session | undefined> {
    const now = new Date();
    const idleSince = new Date(now.getTime() - this.#policy.idleMs);
    const row = await this.#db
      .updateTable('operator_sessions as s')
      .from('operators as o')
      .set({ seen_at: now })
      .whereRef('o.id', '=', 's.operator_id')
      .where('s.token_hash', '=', hashToken(token))
      .where('s.ended_at', 'is', null)
      .where('s.expires_at', '>', now)
      .where('s.seen_at', '>', idleSince)
      .where('o.status', '=', 'active')
      .returning(['o.name', 'o.role', 's.csrf', 's.expires_at'])
      .executeTakeFirst();
    return row ? { operator: { name: row.name, role: row.role }, csrf: row.csrf, expiresAt: row.expires_at } : undefined;
  }

  async signOut(token: string, actor: Actor): Promise<void> {
    const ended = await this.#db.updateTable('operator_sessions').set({ ended_at: new Date() }).where('token_hash', '=', hashToken(token)).where('ended_at', 'is', null).executeTakeFirst();
    if (ended.numUpdatedRows > 0n) await this.#audit.record({ actor, action: 'sign_out', outcome: 'ok' });
  }
}
