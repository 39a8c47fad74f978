import { sql, type Kysely } from 'kysely';

/**
 * A day's revenue counts the cashier adjustments reconciliation made for a provider's findings (a
 * win the vendor lists at more than the wallet paid, say): money of that provider's games, paid
 * outside them. Days already rolled up that hold one are computed again by the job.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table report_days add column reconciliation numeric not null default 0`.execute(db);
  await sql`with days as (
      select distinct (c.created_at at time zone 'UTC')::date as day
      from audit_events a join cashier_operations c on c.reference = a.detail ->> 'reference'
      where a.action = 'finding_resolve' and a.outcome = 'ok'
    ), undone as (
      delete from report_days_done where day in (select day from days)
    )
    delete from report_days where day in (select day from days)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table report_days drop column reconciliation`.execute(db);
}
