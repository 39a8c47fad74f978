import { sql, type Kysely } from 'kysely';

/**
 * Reconciliation with each vendor's own records:
 * - vendor_reconcile_runs: one comparison of a provider's period (who asked, what was compared, how
 *   many matched, how many findings);
 * - vendor_findings: what did not match, one row per (provider, key, kind), so a second run over the
 *   same period finds the same rows again (last_run moves on) instead of adding new ones. A finding
 *   is open until an operator resolves it (a replay, an adjustment) or marks it explained.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table vendor_reconcile_runs (
    id bigint generated always as identity primary key,
    provider_id text not null,
    period_from timestamptz not null,
    period_to timestamptz not null,
    source text not null check (source in ('api', 'import')),
    started_by text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    vendor_records integer,
    matched integer,
    findings integer,
    error text,
    check (period_to > period_from)
  )`.execute(db);
  await sql`create index vendor_reconcile_runs_provider on vendor_reconcile_runs (provider_id, id desc)`.execute(db);
  await sql`create table vendor_findings (
    id bigint generated always as identity primary key,
    provider_id text not null,
    key text not null,
    kind text not null check (kind in ('missing_at_casino', 'missing_at_vendor', 'amount_mismatch', 'player_mismatch', 'round_mismatch', 'status_mismatch', 'stuck_round')),
    at timestamptz not null,
    player_code text,
    currency text,
    detail text not null,
    vendor jsonb,
    ledger jsonb,
    first_run bigint not null references vendor_reconcile_runs (id),
    last_run bigint not null references vendor_reconcile_runs (id),
    state text not null default 'open' check (state in ('open', 'resolved', 'explained')),
    resolved_by text,
    resolved_at timestamptz,
    resolution jsonb,
    constraint vendor_finding_unique unique (provider_id, key, kind)
  )`.execute(db);
  await sql`create index vendor_findings_open on vendor_findings (provider_id, at) where state = 'open'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table vendor_findings`.execute(db);
  await sql`drop table vendor_reconcile_runs`.execute(db);
}
