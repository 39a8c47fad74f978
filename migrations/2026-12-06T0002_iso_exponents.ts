import { sql, type Kysely } from 'kysely';

/**
 * From this release a currency's exponent is ISO 4217's (src/money/currency.ts), where it was the
 * ICU's (CLDR) before. They differ for these: 0 before, 2 or 3 now. An amount stored in minor units
 * of one of them would now mean a hundredth (or a thousandth) of what it meant, and a ledger's
 * transfers are never rewritten: a ledger that holds any stops here, before anything is read wrong.
 */
const CHANGED = ['AFN', 'ALL', 'COP', 'HUF', 'IDR', 'IQD', 'IRR', 'KPW', 'LAK', 'LBP', 'MGA', 'MMK', 'PKR', 'SLL', 'SOS', 'SYP', 'YER'];

export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ currency: string }>`select distinct currency from accounts where currency in (${sql.join(CHANGED)}) order by currency`.execute(db);
  if (rows.length > 0) {
    const held = rows.map((r) => r.currency.trim()).join(', ');
    throw new Error(`the ledger holds ${held}, stored with 0 decimals; this release reads them with ISO 4217's (2, or 3 for IQD). Keep the previous release for this ledger: its amounts cannot be rescaled in place (transfers are never rewritten)`);
  }
}

export async function down(): Promise<void> {
  // Nothing was changed.
}
