import type express from 'express';
import { z } from 'zod';
import { actorOf, type Principal } from '../../http/auth.ts';
import { resolveRequest, runRequest } from '../../http/reconciliation.ts';
import type { FindingView, Resolution } from '../../reconcile/reconciler.ts';
import { html, type SafeHtml } from '../html.ts';
import { CONSOLE_PATH, csrfField, may, need, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

const R = `${CONSOLE_PATH}/reconciliation`;

/**
 * Reconciliation with the vendors' records: the latest runs, the findings (open first), a run of a
 * provider's period on demand (operator), and each finding's resolution: explained or replayed by an
 * operator, adjusted (money moves) by an admin. The same VendorReconciler as /v1, the CLI and the job.
 */
export function reconciliationPage(router: express.Router, deps: ConsoleDeps): void {
  const { reconciler } = deps;

  const render = async (p: Principal, notice?: SafeHtml) => {
    const [open, runs] = await Promise.all([reconciler.findings({ state: 'open', limit: 200 }), reconciler.runs(undefined, 20)]);
    const withApi = deps.providers.filter((i) => reconciler.offersRecords(i.id));
    const hourAgo = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString().slice(0, 16);
    const nowHour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString().slice(0, 16);
    return page(
      'Reconciliation',
      '/reconciliation',
      p,
      html`${notice ?? ''}
${may(p, 'operator') && withApi.length
  ? html`<form class="filters" method="post" action="${R}/run">${csrfField(p)}
<label>Provider <select name="provider">${withApi.map((i) => html`<option>${i.id}</option>`)}</select></label>
<label>From (UTC) <input type="datetime-local" name="from" value="${hourAgo}" required></label>
<label>To (UTC) <input type="datetime-local" name="to" value="${nowHour}" required></label>
<button type="submit" data-testid="reconcile-run">Compare with the vendor's records</button></form>`
  : ''}
<h2>Open findings</h2>
<table data-testid="findings"><thead><tr><th>#</th><th>Provider</th><th>Kind</th><th>Key</th><th>When (UTC)</th><th>Player</th><th>What</th><th></th></tr></thead>
<tbody>${open.length ? open.map((f) => findingRow(f, p)) : html`<tr><td colspan="8" class="muted">Nothing open: the ledger and the vendors agree on what was compared.</td></tr>`}</tbody></table>
<h2>Latest runs</h2>
<table data-testid="runs"><thead><tr><th>Run</th><th>Provider</th><th>Period (UTC)</th><th>Source</th><th>By</th><th class="num">Vendor records</th><th class="num">Matched</th><th class="num">Findings</th><th>Error</th></tr></thead>
<tbody>${runs.map((r) => html`<tr><td>${r.id}</td><td>${r.provider}</td><td>${r.from.slice(0, 16).replace('T', ' ')} – ${r.to.slice(0, 16).replace('T', ' ')}</td><td>${r.source}</td><td>${r.startedBy}</td><td class="num">${r.vendorRecords ?? ''}</td><td class="num">${r.matched ?? ''}</td><td class="num">${r.findings ?? ''}</td><td>${r.error ?? ''}</td></tr>`)}</tbody></table>
<p class="muted">Each hour a job compares the hour just closed for every vendor with a records API; a vendor without one sends exports (<code>POST /v1/reconciliation/import</code>, or <code>npm run cli -- vendor-reconcile --file</code>).</p>`,
    );
  };

  router.get('/reconciliation', async (_req, res) => {
    res.type('html').send(await render(res.locals.principal as Principal));
  });

  router.post('/reconciliation/run', need('operator'), async (req, res) => {
    const p = res.locals.principal as Principal;
    const body = (req.body ?? {}) as Record<string, string>;
    const utc = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(v) ? `${v}:00Z` : v);
    const parsed = runRequest.safeParse({ provider: body.provider, from: utc(body.from), to: utc(body.to) });
    if (!parsed.success) return res.status(400).type('html').send(await render(p, html`<p class="notice bad" role="alert">${z.prettifyError(parsed.error)}</p>`));
    const actor = actorOf(req, res);
    // A run reads the vendor's pages at the vendor's pace: it runs as a job with a page of its own.
    const { provider, from, to } = parsed.data;
    const job = deps.jobs.start({ kind: 'vendor reconciliation', subject: provider, startedBy: p.name }, () => reconciler.run(actor, provider, from, to), (run) => ({
      good: run.open === 0,
      html: html`<p class="notice ${run.open ? 'warn' : 'ok'}" role="status" data-testid="reconcile-result">${run.provider}, ${run.from.slice(0, 16).replace('T', ' ')} – ${run.to.slice(0, 16).replace('T', ' ')} UTC: ${run.vendorRecords} vendor records, ${run.matched} matched, ${run.open} open finding${run.open === 1 ? '' : 's'}${run.cleared ? `, ${run.cleared} earlier no longer found (cleared)` : ''}.</p>
${run.findings.length ? html`<table><thead><tr><th>#</th><th>Kind</th><th>Key</th><th>State</th><th>What</th></tr></thead><tbody>${run.findings.map((f) => html`<tr><td>${f.id}</td><td>${f.kind}</td><td>${f.key}</td><td>${f.state}</td><td>${f.detail}</td></tr>`)}</tbody></table>` : ''}
<p><a href="${R}">Open findings and their resolutions</a></p>`,
    }));
    res.redirect(303, `${CONSOLE_PATH}/jobs/${job.id}`);
  });

  router.post('/reconciliation/findings/:id/resolve', need('operator'), async (req: express.Request<{ id: string }>, res) => {
    const p = res.locals.principal as Principal;
    const body = (req.body ?? {}) as Record<string, string>;
    const parsed = resolveRequest.safeParse(body);
    if (!/^\d{1,18}$/.test(req.params.id) || !parsed.success) return res.status(400).type('html').send(await render(p, html`<p class="notice bad" role="alert">${parsed.success ? 'not a finding' : z.prettifyError(parsed.error)}</p>`));
    if (parsed.data.action === 'adjust' && !may(p, 'admin')) return res.status(403).type('html').send(await render(p, html`<p class="notice bad" role="alert">An adjustment moves money: it is an admin’s.</p>`));
    const result = await reconciler.resolve(actorOf(req, res), BigInt(req.params.id), parsed.data as Resolution);
    const notice = result.ok ? html`<p class="notice ok" role="status" data-testid="resolve-result">Finding ${result.finding.id} is ${result.finding.state}.</p>` : html`<p class="notice bad" role="alert" data-testid="resolve-result">${result.message}</p>`;
    res.status(result.ok ? 200 : 422).type('html').send(await render(p, notice));
  });
}

function findingRow(f: FindingView, p: Principal): SafeHtml {
  const forms = may(p, 'operator')
    ? html`<form class="inline" method="post" action="${R}/findings/${f.id}/resolve">${csrfField(p)}<input type="hidden" name="action" value="explain"><input name="note" placeholder="why it is fine" required minlength="3" size="16"><button class="secondary" type="submit">Explain</button></form>
${may(p, 'admin') && f.player && f.currency && f.kind !== 'currency_mismatch'
  ? html`<form class="inline" method="post" action="${R}/findings/${f.id}/resolve">${csrfField(p)}<input type="hidden" name="action" value="adjust"><select name="direction"><option>deposit</option><option>withdrawal</option></select><input name="amount" inputmode="decimal" required size="7" placeholder="${f.currency}"><input name="note" placeholder="reason" required minlength="3" size="14"><button type="submit">Adjust</button></form>`
  : ''}`
    : '';
  return html`<tr data-testid="finding-row"><td>${f.id}</td><td>${f.provider}</td><td><span class="tag failed">${f.kind}</span></td><td><code>${f.key}</code></td><td>${f.at.slice(0, 19).replace('T', ' ')}</td><td>${f.player ? html`<a href="${CONSOLE_PATH}/players/${encodeURIComponent(f.player)}">${f.player}</a>` : ''}</td><td>${f.detail}</td><td>${forms}</td></tr>`;
}
