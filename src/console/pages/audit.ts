import type express from 'express';
import { z } from 'zod';
import type { Principal } from '../../http/auth.ts';
import { AUDIT_ACTIONS } from '../../operators/audit.ts';
import { auditJson, auditRequest } from '../../http/operators.ts';
import { html } from '../html.ts';
import { CONSOLE_PATH, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';


/**
 * A browser's form as /v1's query: empty fields are absent, and a `datetime-local` value (no zone)
 * is read as UTC, the zone every time on these pages is shown in.
 */
export function formQuery(query: Record<string, unknown>, times: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string' || value.trim() === '') continue;
    out[key] = times.includes(key) && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value.trim();
  }
  return out;
}

/** A Date as a `datetime-local` field's value, in UTC. */
export const localValue = (d: Date | undefined) => (d === undefined ? '' : d.toISOString().slice(0, 19));

/** The audit trail, newest first, filtered as /v1/audit filters it (the same schema), paged by id. */
export function auditPage(router: express.Router, deps: ConsoleDeps): void {
  router.get('/audit', async (req, res) => {
    const p = res.locals.principal as Principal;
    const raw = formQuery(req.query as Record<string, unknown>, ['since', 'until']);
    const parsed = auditRequest.safeParse(raw);
    const f = parsed.success ? parsed.data : auditRequest.parse({});
    const rows = (await deps.audit.list(f)).map(auditJson);
    const next = rows.length === f.limit ? rows.at(-1)!.id : undefined;
    const keep = new URLSearchParams(Object.entries(raw).filter(([k]) => k !== 'before') as [string, string][]);
    const nextLink = next === undefined ? '' : html`<a data-testid="audit-next" href="${CONSOLE_PATH}/audit?${keep.toString()}${keep.size ? '&' : ''}before=${next}">Older events</a>`;
    const actionOptions = AUDIT_ACTIONS.map((a) => html`<option ${f.action === a ? html`selected` : ''}>${a}</option>`);
    const outcomeOptions = ['ok', 'refused', 'failed'].map((o) => html`<option ${f.outcome === o ? html`selected` : ''}>${o}</option>`);
    const table = rows.map(
      (e) => html`<tr data-testid="audit-row">
<td>${e.at.replace('T', ' ').slice(0, 19)}</td><td>${e.actor}</td><td>${e.via}</td><td>${e.ip ?? ''}</td>
<td data-testid="audit-action">${e.action}</td><td>${e.target ?? ''}</td>
<td><span class="tag ${e.outcome}">${e.outcome}</span></td>
<td><code>${Object.keys(e.detail as object).length === 0 ? '' : JSON.stringify(e.detail)}</code></td>
</tr>`,
    );
    res.type('html').send(
      page(
        'Audit',
        '/audit',
        p,
        html`${parsed.success ? '' : html`<p class="notice bad" role="alert">${z.prettifyError(parsed.error)}</p>`}
<form class="filters" method="get" action="${CONSOLE_PATH}/audit">
<label>Who <input name="actor" value="${f.actor ?? ''}"></label>
<label>Action <select name="action"><option value="">any</option>${actionOptions}</select></label>
<label>Target <input name="target" value="${f.target ?? ''}" placeholder="player, webhook id, operator"></label>
<label>Outcome <select name="outcome"><option value="">any</option>${outcomeOptions}</select></label>
<label>From (UTC) <input type="datetime-local" step="1" name="since" value="${localValue(f.since)}"></label>
<label>To (UTC) <input type="datetime-local" step="1" name="until" value="${localValue(f.until)}"></label>
<button type="submit">Filter</button>
</form>
<table data-testid="audit">
<thead><tr><th>When (UTC)</th><th>Who</th><th>Via</th><th>From</th><th>Action</th><th>Target</th><th>Outcome</th><th>Detail</th></tr></thead>
<tbody>${table.length ? table : html`<tr><td colspan="8" class="muted">No event matches.</td></tr>`}</tbody>
</table>
<p>${nextLink}</p>`,
      ),
    );
  });
}
