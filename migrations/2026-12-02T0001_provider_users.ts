import { sql, type Kysely } from 'kysely';

/**
 * A player's user at each vendor that knows them: registering with a vendor stores the vendor's user
 * code here, once; launching a game sends it back. One user per player and provider, and a vendor's
 * user code names one player only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table provider_users (
    player_id bigint not null references players (id),
    provider_id text not null,
    user_code text not null,
    created_at timestamptz not null default now(),
    primary key (player_id, provider_id),
    constraint provider_users_code unique (provider_id, user_code)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists provider_users`.execute(db);
}
