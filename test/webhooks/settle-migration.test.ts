import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/ledger/database.ts';
import { migrateToLatest } from '../../src/ledger/migrate.ts';
import { migratedTo, type TestDatabase } from '../support/db.ts';

/** The migration that settles the faults kept before faults owing nothing were settled as written. */
const BEFORE = '2026-12-05T0002_report_sums_numeric';
let t: TestDatabase;
let db: Db;

async function kept(op: string, outcome: string): Promise<bigint> {
  const { rows } = await sql<{ id: bigint }>`insert into webhooks (capture_id, provider_id, received_at, source, headers, body, operation, outcome, duration_ms)
    values (${randomUUID()}, 'scorpio-play', now() - interval '1 hour', 'vendor', '{}', '\\x', ${JSON.stringify({ op })}::jsonb, ${outcome}, 1) returning id`.execute(db);
  return rows[0]!.id;
}
const resolvedAt = async (id: bigint) => (await sql<{ resolved_at: Date | null }>`select resolved_at from webhooks where id = ${id}`.execute(db)).rows[0]!.resolved_at;

beforeAll(async () => {
  t = await migratedTo(BEFORE);
  db = t.db;
});
afterAll(() => t?.drop());

describe('faults kept before the change', () => {
  it('are settled when they owe nothing (a bet, a read); a faulted win and a parked cancel stay failures', async () => {
    const [bet, balance, win, cancel] = [await kept('debit', 'fault'), await kept('balance', 'fault'), await kept('credit', 'fault'), await kept('rollback', 'parked')];
    expect(await migrateToLatest(db)).toContain('2026-12-05T0003_settle_faults_owing_nothing');
    expect(await resolvedAt(bet)).not.toBeNull();
    expect(await resolvedAt(balance)).not.toBeNull();
    expect(await resolvedAt(win)).toBeNull();
    expect(await resolvedAt(cancel)).toBeNull();
  });
});
