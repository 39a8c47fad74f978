import type express from 'express';
import { z } from 'zod';
import type { Principal } from '../../http/auth.ts';
import { ggrRequest } from '../../http/reports.ts';
import { asCurrency } from '../../money/currency.ts';
import { formatAmountFixed, type Minor } from '../../money/minor.ts';
import { derived, type GgrRow } from '../../reports/ggr.ts';
import { html, type SafeHtml } from '../html.ts';
import { CONSOLE_PATH, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';
import { formQuery } from './audit.ts';

const money = (v: Minor, currency: string) => formatAmountFixed(v, asCurrency(currency));

/**
 * GGR per period for one currency as bars (positive up, negative down), drawn on the server as SVG:
 * no script, no CDN. Heights are scaled from exact bigint sums; only the drawing is approximate.
 */
export function ggrChart(rows: readonly GgrRow[], currency: string): SafeHtml {
  const byPeriod = new Map<string, bigint>();
  for (const r of rows) if (r.currency === currency) byPeriod.set(r.period, (byPeriod.get(r.period) ?? 0n) + derived(r).ggr);
  const periods = [...byPeriod.keys()].sort();
  if (periods.length === 0) return html``;
  const values = periods.map((p) => byPeriod.get(p)!);
  const top = values.reduce((m, v) => (v > m ? v : m), 0n);
  const bottom = values.reduce((m, v) => (v < m ? v : m), 0n);
  const span = top - bottom === 0n ? 1n : top - bottom;
  const W = 720;
  const H = 200;
  const bar = Math.max(2, Math.floor(W / periods.length) - 2);
  // Pixel positions from bigint ratios scaled to 10^4: exact enough to draw, and no float touches the sums.
  const y = (v: bigint) => Number(((top - v) * BigInt(H) * 10_000n) / span) / 10_000;
  const zero = y(0n);
  const bars = periods.map((p, i) => {
    const v = byPeriod.get(p)!;
    const yv = y(v);
    return html`<rect x="${i * (bar + 2)}" y="${Math.min(yv, zero)}" width="${bar}" height="${Math.max(1, Math.abs(zero - yv))}" class="${v < 0n ? 'neg' : 'pos'}"><title>${p}: GGR ${money(v, currency)} ${currency}</title></rect>`;
  });
  return html`<figure class="chart" data-testid="ggr-chart-${currency}">
<svg viewBox="0 0 ${W} ${H}" width="100%" height="${H}" role="img" aria-label="GGR per period in ${currency}">
${bars}<line x1="0" x2="${W}" y1="${zero}" y2="${zero}" class="axis"/>
</svg>
<figcaption>GGR in ${currency}, ${periods[0]} to ${periods.at(-1)}: highest ${money(top, currency)}, lowest ${money(bottom, currency)}.</figcaption>
</figure>`;
}

/** The revenue report /v1/reports/ggr gives, with the same query, as a table and a chart per currency, and its CSV. */
export function reportsPage(router: express.Router, deps: ConsoleDeps): void {
  router.get('/reports', async (req, res) => {
    const p = res.locals.principal as Principal;
    const today = new Date().toISOString().slice(0, 10);
    const monthStart = `${today.slice(0, 8)}01`;
    const raw = { from: monthStart, to: today, ...formQuery(req.query as Record<string, unknown>, []) };
    const parsed = ggrRequest.safeParse(raw);
    const q = parsed.success ? parsed.data : ggrRequest.parse({ from: monthStart, to: today });
    const { format: _format, ...query } = q;
    const rows = await deps.reports.ggr(query);
    const currencies = [...new Set(rows.map((r) => r.currency))].sort();
    const csv = new URLSearchParams({ ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)])), format: 'csv' });
    const table = rows.map((r) => {
      const d = derived(r);
      return html`<tr data-testid="ggr-row">
<td>${r.period}</td><td>${r.provider}</td><td>${r.game || (r.reconciliation !== 0n ? 'reconciliation adjustments' : '–')}</td><td>${r.currency}</td>
<td class="num">${r.rounds}</td><td class="num">${r.players}</td>
<td class="num">${money(d.staked, r.currency)}</td><td class="num">${money(d.paid, r.currency)}</td><td class="num">${money(r.promoWins, r.currency)}</td>
<td class="num" data-testid="ggr-value">${money(d.ggr, r.currency)}</td><td class="num">${money(d.ggrAfterPromotions, r.currency)}</td><td class="num">${d.rtp === null ? '–' : `${d.rtp} %`}</td>
</tr>`;
    });
    res.type('html').send(
      page(
        'Reports',
        '/reports',
        p,
        html`${parsed.success ? '' : html`<p class="notice bad" role="alert">${z.prettifyError(parsed.error)}</p>`}
<form class="filters" method="get" action="${CONSOLE_PATH}/reports">
<label>From <input type="date" name="from" value="${q.from}"></label>
<label>To <input type="date" name="to" value="${q.to}"></label>
<label>By <select name="by"><option ${q.by === 'day' ? html`selected` : ''}>day</option><option ${q.by === 'month' ? html`selected` : ''}>month</option></select></label>
<label>Provider <select name="provider"><option value="">all</option>${deps.providers.map((i) => html`<option ${q.provider === i.id ? html`selected` : ''}>${i.id}</option>`)}</select></label>
<label>Game <input name="game" value="${q.game ?? ''}"></label>
<label>Currency <input name="currency" value="${q.currency ?? ''}" size="4"></label>
<button type="submit">Show</button>
<a href="/v1/reports/ggr?${csv.toString()}" data-testid="ggr-csv">CSV</a>
</form>
${currencies.map((c) => ggrChart(rows, c))}
<table data-testid="ggr">
<thead><tr><th>Period</th><th>Provider</th><th>Game</th><th>Cur.</th><th class="num">Rounds</th><th class="num">Players</th><th class="num">Staked</th><th class="num">Paid</th><th class="num">Promotional wins</th><th class="num">GGR</th><th class="num">After promotions</th><th class="num">RTP</th></tr></thead>
<tbody>${table.length ? table : html`<tr><td colspan="12" class="muted">No money moved in this period.</td></tr>`}</tbody>
</table>
<p class="muted">Days are UTC, the day the money moved: a result or cancel after midnight counts on the day it arrived. Staked is stakes less refunds; paid is game wins less reversals plus result changes and the cashier adjustments reconciliation made for the provider (in its row with no game); promotional wins (free bets, bonuses) are kept apart: GGR leaves them out, the next column takes them off; RTP = paid / staked.</p>`,
      ),
    );
  });
}
