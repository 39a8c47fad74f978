import { sql, type Kysely } from 'kysely';

/**
 * A day's revenue counts the cashier adjustments reconciliation made for a provider's findings (a
 * win the vendor lists at more than the wallet paid, say): money of that provider's games, paid
 * outside them; and a result change that overtook its result (settling the round) counts as the
 * round's win, not as a correction. Days already rolled up that hold either are computed again by
 * the job.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table report_days add column reconciliation numeric not null default 0`.execute(db);
  await sql`with days as (
      select distinct (a.at at time zone 'UTC')::date as day
      from audit_events a join cashier_operations c on c.reference = a.detail ->> 'reference'
      where a.action = 'finding_resolve' and a.outcome = 'ok'
      union
      select distinct (pt.created_at at time zone 'UTC')::date
      from provider_transactions pt join rounds r on r.id = pt.round_id and r.settled_by = pt.id
      where pt.kind = 'adjust'
    ), undone as (
      delete from report_days_done where day in (select day from days)
    )
    delete from report_days where day in (select day from days)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table report_days drop column reconciliation`.execute(db);
}
