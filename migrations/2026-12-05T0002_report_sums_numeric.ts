import { sql, type Kysely } from 'kysely';

/**
 * A day's money per provider, game and currency is a sum of many bigint amounts, and can pass the
 * largest bigint even though no balance does (each player's stays under it): one vendor's huge wins
 * then made every revenue report fail ("bigint out of range"), for every provider. The rolled-up sums
 * are numeric, exact at any size; the counts stay bigint.
 */
const MONEY = ['stakes', 'refunds', 'wins', 'reversals', 'adjustments', 'promo_wins'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of MONEY) await sql`alter table report_days alter column ${sql.ref(column)} type numeric`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of MONEY) await sql`alter table report_days alter column ${sql.ref(column)} type bigint`.execute(db);
}
