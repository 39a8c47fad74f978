import { sql, type Kysely } from 'kysely';

/**
 * What the console's player pages look up, found by index on a large ledger:
 * - a player's rounds, newest first (paged by id);
 * - players by the start of their code (`text_pattern_ops`: a LIKE 'abc%' whatever the collation).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index rounds_player on rounds (player_id, id desc)`.execute(db);
  await sql`create index players_code_prefix on players (code text_pattern_ops)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index players_code_prefix`.execute(db);
  await sql`drop index rounds_player`.execute(db);
}
