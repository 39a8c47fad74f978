import { sql, type Kysely } from 'kysely';

/**
 * A round belongs to one player and one currency. A live table's round (a table and game number, or a
 * vendor's round id) is shared by everyone seated, so the same external round id names one round per
 * player; and every transaction of a round must be in the currency its first one was, so a cancel or a
 * result can never move money in another currency than the bet it settles.
 */
const statements = [
  sql`alter table rounds add column currency char(3)`,
  sql`update rounds r set currency = (select t.currency from provider_transactions t where t.round_id = r.id order by t.id limit 1)`,
  sql`delete from rounds r where r.currency is null`,
  sql`alter table rounds alter column currency set not null`,
  sql`alter table rounds drop constraint rounds_provider_id_external_id_key`,
  sql`alter table rounds add constraint round_unique unique (provider_id, player_id, external_id)`,
  sql`alter table line_cancels drop constraint line_cancel_unique`,
  sql`alter table line_cancels add constraint line_cancel_unique unique (provider_id, player_id, round_external_id, ref)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table line_cancels drop constraint line_cancel_unique`.execute(db);
  await sql`alter table line_cancels add constraint line_cancel_unique unique (provider_id, round_external_id, ref)`.execute(db);
  await sql`alter table rounds drop constraint round_unique`.execute(db);
  await sql`alter table rounds add constraint rounds_provider_id_external_id_key unique (provider_id, external_id)`.execute(db);
  await sql`alter table rounds drop column currency`.execute(db);
}
