import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { VendorRecord } from '../gateway/vendor-api.ts';
import type { Currency } from '../money/currency.ts';
import { parseAmount } from '../money/minor.ts';

/** Rows in one export: more is a file to split. */
export const MAX_EXPORT_ROWS = 100_000;

const row = z.object({
  id: z.string().trim().min(1).max(200),
  kind: z.enum(['bet', 'win', 'cancel']),
  user: z.string().trim().min(1).max(200),
  round: z.string().trim().max(200).optional(),
  amount: z.string().trim().min(1).max(40),
  at: z.iso.datetime({ offset: true }),
});

/** An export's records, in the one currency the operator named: compared with the ledger's money in it only. */
export interface VendorExport {
  currency: Currency;
  records: VendorRecord[];
}

/**
 * A vendor's export of its transactions, for a vendor without a records API: a JSON array, or CSV
 * with the header `id,kind,user,round,amount,at`. `kind` is bet, win or cancel; `amount` a decimal
 * in currency units (as text, so no float touches it); `at` an ISO 8601 time with its zone.
 */
export function parseExport(content: string, currency: Currency): { ok: true; value: VendorExport } | { ok: false; message: string } {
  const text = content.trim();
  if (!text) return { ok: false, message: 'the export holds no record' };
  let entries: unknown[];
  if (text.startsWith('[')) {
    try {
      // Amounts must be strings in JSON: a JSON number would be read as a float.
      entries = JSON.parse(text) as unknown[];
    } catch (error) {
      return { ok: false, message: `not a JSON array: ${(error as Error).message}` };
    }
    if (!Array.isArray(entries)) return { ok: false, message: 'not a JSON array' };
  } else {
    try {
      entries = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true }) as unknown[];
    } catch (error) {
      return { ok: false, message: `not CSV with the header id,kind,user,round,amount,at: ${(error as Error).message}` };
    }
  }
  if (entries.length > MAX_EXPORT_ROWS) return { ok: false, message: `${entries.length} records: at most ${MAX_EXPORT_ROWS} per import` };
  const out: VendorRecord[] = [];
  for (const [i, entry] of entries.entries()) {
    const e = row.safeParse(entry && typeof entry === 'object' && (entry as { round?: unknown }).round === '' ? { ...entry, round: undefined } : entry);
    if (!e.success) return { ok: false, message: `record ${i + 1}: ${z.prettifyError(e.error)}` };
    const amount = parseAmount(e.data.amount, currency);
    if (!amount.ok) return { ok: false, message: `record ${i + 1}: amount ${e.data.amount}: ${amount.reason}` };
    out.push({ id: e.data.id, kind: e.data.kind, user: e.data.user, ...(e.data.round ? { round: e.data.round } : {}), amount: amount.value, at: new Date(e.data.at) });
  }
  return { ok: true, value: { currency, records: out } };
}
