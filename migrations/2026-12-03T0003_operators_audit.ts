import { sql, type Kysely } from 'kysely';

/**
 * The people who run the gateway, and what they did.
 * - operators: an account per person, with one role (viewer < operator < admin) and a password hash
 *   (scrypt, src/operators/passwords.ts); disabled, never deleted, so the audit trail keeps its names.
 * - operator_sessions: a console sign-in. The cookie holds a random token; only its SHA-256 is kept
 *   here, with the session's CSRF secret, when it was last used (idle expiry) and when it ends for
 *   good (absolute expiry).
 * - audit_events: every sign-in (and failed one) and every state change made by a person or a
 *   machine token, insert-only like the ledger (the same trigger function refuses updates and
 *   deletes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table operators (
    id bigint generated always as identity primary key,
    name text not null unique check (name ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
    role text not null check (role in ('viewer', 'operator', 'admin')),
    password_hash text not null,
    status text not null default 'active' check (status in ('active', 'disabled')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create table operator_sessions (
    token_hash text primary key,
    operator_id bigint not null references operators (id),
    csrf text not null,
    created_at timestamptz not null default now(),
    seen_at timestamptz not null default now(),
    expires_at timestamptz not null,
    ended_at timestamptz,
    ip text,
    user_agent text
  )`.execute(db);
  await sql`create index operator_sessions_operator on operator_sessions (operator_id) where ended_at is null`.execute(db);
  await sql`create table audit_events (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    actor text not null,
    via text not null check (via in ('console', 'token', 'cli')),
    ip text,
    action text not null,
    target text,
    outcome text not null check (outcome in ('ok', 'refused', 'failed')),
    detail jsonb not null default '{}'
  )`.execute(db);
  await sql`create index audit_events_at on audit_events (at desc)`.execute(db);
  await sql`create index audit_events_actor on audit_events (actor, at desc)`.execute(db);
  // The sign-in brake counts recent failures by name and by address.
  await sql`create index audit_events_failed_sign_ins on audit_events (at) where action = 'sign_in' and outcome <> 'ok'`.execute(db);
  await sql`create trigger audit_events_insert_only before update or delete on audit_events for each row execute function ledger_refuse_change()`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events for each statement execute function ledger_refuse_change()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists audit_events`.execute(db);
  await sql`drop table if exists operator_sessions`.execute(db);
  await sql`drop table if exists operators`.execute(db);
}
