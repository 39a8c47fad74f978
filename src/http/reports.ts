import express from 'express';
import { z } from 'zod';
import { ggrCsv, ggrJson, type Reports } from '../reports/ggr.ts';
import { currencyCode } from '../money/currency.ts';
import { allow } from './auth.ts';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD').refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a calendar day');

/** At most this many days per report: a year of daily rows per provider and game. */
const MAX_DAYS = 366;

export const ggrRequest = z
  .object({
    from: day,
    to: day,
    by: z.enum(['day', 'month']).default('day'),
    provider: z.string().max(200).optional(),
    game: z.string().max(200).optional(),
    // Any case: 'usd' is USD, not a filter matching nothing.
    currency: currencyCode.optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) < MAX_DAYS * 86_400_000, { message: `at most ${MAX_DAYS} days per report`, path: ['to'] });

/** /v1/reports: revenue (GGR) per day or month, provider, game and currency, as JSON or CSV (anyone signed in). */
export function reportsRouter(reports: Reports) {
  const router = express.Router();
  router.get('/reports/ggr', allow('viewer'), async (req, res) => {
    const query = ggrRequest.safeParse(req.query);
    if (!query.success) return res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(query.error) } });
    const { format, ...q } = query.data;
    const rows = await reports.ggr(q);
    if (format === 'csv') {
      res.type('text/csv').attachment(`ggr-${q.from}-${q.to}-by-${q.by}.csv`).send(ggrCsv(rows, q.by));
      return;
    }
    res.json({ from: q.from, to: q.to, by: q.by, dayBoundary: 'UTC, the day the money moved', rows: rows.map((r) => ggrJson(r, q.by)) });
  });
  return router;
}
