import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/ledger/migrate.ts';
import { migratedTo, type TestDatabase } from '../support/db.ts';

/**
 * The release that reads a currency's exponent from ISO 4217 instead of ICU's CLDR data: a ledger that
 * already holds amounts in a currency whose exponent that changes (HUF: 0 decimals before, 2 now)
 * stops at the migration, with why, instead of reading every stored forint as a hundredth of one.
 */
const BEFORE = '2026-12-06T0001_currency_mismatch_finding';

let t: TestDatabase;
beforeAll(async () => {
  t = await migratedTo(BEFORE);
});
afterAll(() => t?.drop());

describe('a ledger holding a currency whose exponent changes', () => {
  it('is not migrated, and says which currency and why', async () => {
    await sql`insert into accounts (kind, currency) values ('cashier', 'USD'), ('cashier', 'HUF')`.execute(t.db);
    await expect(migrateToLatest(t.db)).rejects.toThrow(/the ledger holds HUF, stored with 0 decimals/);
    await sql`delete from accounts where currency = 'HUF'`.execute(t.db);
    await expect(migrateToLatest(t.db)).resolves.toContain('2026-12-06T0002_iso_exponents');
  });
});
