import { sql, type Kysely } from 'kysely';

/**
 * Webhook history (wallet-semantics.md, "Webhook history"): every incoming webhook as it arrived
 * (headers with secrets redacted, the raw body), what it decoded to, the wallet operation, the
 * outcome, the answer sent and the time taken. Failed ones (an internal fault) stay listed for
 * operators until a retry or a replay settles them. Unlike the ledger this is a log, kept for
 * WEBHOOK_RETENTION_DAYS; `capture_id` makes a record written late (through Redis, while Postgres
 * was down) land once.
 */
const statements = [
  sql`create table webhooks (
    id bigint generated always as identity primary key,
    capture_id uuid not null unique,
    provider_id text not null,
    received_at timestamptz not null,
    source text not null check (source in ('vendor', 'retry', 'replay', 'import')),
    headers jsonb not null,
    body bytea not null,
    payload jsonb,
    operation jsonb,
    player_code text,
    transaction_id text,
    outcome text not null check (outcome in ('ok', 'duplicate', 'refused', 'rejected', 'fault', 'parked')),
    detail text,
    answer text,
    duration_ms integer not null,
    replay_of bigint references webhooks (id) on delete set null,
    resolved_at timestamptz,
    resolved_by bigint references webhooks (id) on delete set null
  )`,
  sql`create index webhooks_provider_time on webhooks (provider_id, received_at)`,
  sql`create index webhooks_player_time on webhooks (player_code, received_at)`,
  sql`create index webhooks_transaction on webhooks (provider_id, transaction_id)`,
  sql`create index webhooks_received on webhooks (received_at)`,
  sql`create index webhooks_unresolved_failures on webhooks (provider_id, received_at) where outcome in ('fault', 'parked') and resolved_at is null`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists webhooks`.execute(db);
}
