import { sql, type Kysely } from 'kysely';

/**
 * A finding for money the vendor lists in one currency and the wallet moved in another (an export
 * imported in the wrong currency): before, it was reported as never applied, and an adjustment paid
 * it a second time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table vendor_findings drop constraint vendor_findings_kind_check`.execute(db);
  await sql`alter table vendor_findings add constraint vendor_findings_kind_check
    check (kind in ('missing_at_casino', 'missing_at_vendor', 'amount_mismatch', 'player_mismatch', 'round_mismatch', 'status_mismatch', 'currency_mismatch', 'stuck_round'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from vendor_findings where kind = 'currency_mismatch'`.execute(db);
  await sql`alter table vendor_findings drop constraint vendor_findings_kind_check`.execute(db);
  await sql`alter table vendor_findings add constraint vendor_findings_kind_check
    check (kind in ('missing_at_casino', 'missing_at_vendor', 'amount_mismatch', 'player_mismatch', 'round_mismatch', 'status_mismatch', 'stuck_round'))`.execute(db);
}
