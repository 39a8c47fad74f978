import type express from 'express';
import { z } from 'zod';
import { actorOf, type Principal } from '../../http/auth.ts';
import { asCurrency } from '../../money/currency.ts';
import { formatAmount } from '../../money/minor.ts';
import type { WebhookRow } from '../../webhooks/history.ts';
import { OUTCOMES, parseExport, replayRequest, searchRequest, webhookJson } from '../../webhooks/wire.ts';
import { html, type SafeHtml } from '../html.ts';
import type { ReplaySummary } from '../../operators/actions.ts';
import { CONSOLE_PATH, csrfField, may, need, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';
import { formQuery, localValue } from './audit.ts';

const W = `${CONSOLE_PATH}/webhooks`;

/** JSON for a person: indented, bigints as text. */
const pretty = (v: unknown) => (v === null || v === undefined ? '' : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2));

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 23);

const outcomeTag = (w: WebhookRow) =>
  html`<span class="tag ${w.outcome}" data-testid="outcome">${w.outcome}</span>${w.resolved_by ? html` <span class="muted">settled by <a href="${W}/${w.resolved_by}">${w.resolved_by}</a></span>` : w.resolved_at ? html` <span class="muted">nothing to settle</span>` : ''}`;

function table(rows: readonly WebhookRow[], p: Principal, replayButtons: boolean): SafeHtml {
  const body = rows.map((w) => {
    const op = (w.operation as { op?: string } | null)?.op ?? '';
    const replay =
      replayButtons && may(p, 'operator')
        ? html`<form class="inline" method="post" action="${W}/${w.id}/replay">${csrfField(p)}<button type="submit" data-testid="replay-${w.id}">Replay</button></form>`
        : '';
    return html`<tr data-testid="webhook-row">
<td><a href="${W}/${w.id}" data-testid="webhook-link">${w.id}</a></td><td>${when(w.received_at)}</td><td>${w.provider_id}</td>
<td>${w.source}${w.replay_of ? html` of <a href="${W}/${w.replay_of}">${w.replay_of}</a>` : ''}</td><td>${op}</td>
<td>${w.player_code ? html`<a href="${CONSOLE_PATH}/players/${encodeURIComponent(w.player_code)}">${w.player_code}</a>` : ''}</td>
<td>${w.transaction_id ?? ''}</td><td>${outcomeTag(w)}</td><td class="num">${w.duration_ms} ms</td><td>${replay}</td>
</tr>`;
  });
  return html`<table data-testid="webhooks">
<thead><tr><th>Id</th><th>Received (UTC)</th><th>Provider</th><th>Source</th><th>Operation</th><th>Player</th><th>Transaction</th><th>Outcome</th><th class="num">Took</th><th></th></tr></thead>
<tbody>${body.length ? body : html`<tr><td colspan="10" class="muted">Nothing matches.</td></tr>`}</tbody>
</table>`;
}

const providerSelect = (deps: ConsoleDeps, chosen: string | undefined, any = true) =>
  html`<select name="provider">${any ? html`<option value="">any</option>` : ''}${deps.providers.map((i) => html`<option ${chosen === i.id ? html`selected` : ''}>${i.id}</option>`)}</select>`;

/** What a finished bulk replay or import did, for its job page. */
function replayReport(r: ReplaySummary): { html: SafeHtml; good: boolean } {
  return {
    good: true,
    html: html`<p class="notice ok" data-testid="job-done">${r.count} webhook${r.count === 1 ? '' : 's'} processed: ${Object.entries(r.outcomes).map(([o, n]) => `${n} ${o}`).join(', ') || 'none'}.</p>
<table><thead><tr><th>Webhook</th><th>New record</th><th>Outcome</th><th>Detail</th></tr></thead>
<tbody>${r.results.map((x) => html`<tr><td>${x.webhookId ? html`<a href="${W}/${x.webhookId}">${x.webhookId}</a>` : ''}</td><td>${x.replayId ? html`<a href="${W}/${x.replayId}">${x.replayId}</a>` : ''}</td><td><span class="tag ${x.outcome}">${x.outcome}</span></td><td>${x.detail ?? ''}</td></tr>`)}</tbody></table>`,
  };
}

/**
 * The webhook history for operators: search, the inbox of failures, a webhook in full, replay one,
 * replay a window after a dry-run count, import a vendor's export. Replays and imports go through
 * OperatorActions (audited, as from /v1 and the CLI); the long ones run as jobs with a progress page.
 */
export function webhooksPage(router: express.Router, deps: ConsoleDeps): void {
  const { history, actions, jobs } = deps;

  router.get('/webhooks', async (req, res) => {
    const p = res.locals.principal as Principal;
    const raw = formQuery(req.query as Record<string, unknown>, ['since', 'until']);
    const parsed = searchRequest.safeParse(raw);
    const f = parsed.success ? parsed.data : searchRequest.parse({});
    const rows = await history.search(f);
    const keep = new URLSearchParams(Object.entries(raw).filter(([k]) => k !== 'before') as [string, string][]);
    const next = rows.length === f.limit ? rows.at(-1)!.id : undefined;
    const outcome = typeof raw.outcome === 'string' ? raw.outcome : '';
    res.type('html').send(
      page(
        'Webhooks',
        '/webhooks',
        p,
        html`${parsed.success ? '' : html`<p class="notice bad" role="alert">${z.prettifyError(parsed.error)}</p>`}
<p><a href="${W}/inbox" data-testid="inbox-link">Inbox: failures not yet settled</a> · <a href="${W}/bulk">Replay a window</a>${may(p, 'admin') ? html` · <a href="${W}/import">Import a vendor's export</a>` : ''}</p>
<form class="filters" method="get" action="${W}">
<label>Provider ${providerSelect(deps, f.provider)}</label>
<label>Player <input name="player" value="${f.player ?? ''}"></label>
<label>Transaction <input name="transactionId" value="${f.transactionId ?? ''}"></label>
<label>Outcome <select name="outcome"><option value="">any</option>${OUTCOMES.map((o) => html`<option ${outcome === o ? html`selected` : ''}>${o}</option>`)}</select></label>
<label>Since (UTC) <input type="datetime-local" step="1" name="since" value="${localValue(f.since)}"></label>
<label>Until (UTC) <input type="datetime-local" step="1" name="until" value="${localValue(f.until)}"></label>
<button type="submit">Search</button>
</form>
${table(rows, p, false)}
<p>${next === undefined ? '' : html`<a data-testid="webhooks-next" href="${W}?${keep.toString()}${keep.size ? '&' : ''}before=${next}">Older</a>`}</p>`,
      ),
    );
  });

  router.get('/webhooks/inbox', async (req, res) => {
    const p = res.locals.principal as Principal;
    const provider = typeof req.query.provider === 'string' && req.query.provider ? req.query.provider : undefined;
    const rows = await history.search({ unresolved: true, limit: 200, ...(provider ? { provider } : {}) });
    res.type('html').send(
      page(
        'Inbox: failed webhooks',
        '/webhooks',
        p,
        html`<p class="muted">Calls answered with a fault or parked for a retry that no retry or replay has settled yet, newest first${provider ? html` (${provider} only; <a href="${W}/inbox">all providers</a>)` : ''}. A replay runs the stored call again through its adapter and the wallet rules; it is safe to repeat.</p>
${table(rows, p, true)}`,
      ),
    );
  });

  router.get('/webhooks/bulk', need('operator'), async (req, res) => {
    const p = res.locals.principal as Principal;
    const raw = formQuery(req.query as Record<string, unknown>, ['since', 'until']);
    let result: SafeHtml | string = '';
    if (raw.provider !== undefined) {
      const parsed = replayRequest.safeParse({ ...raw, dryRun: true });
      if (!parsed.success) result = html`<p class="notice bad" role="alert">${z.prettifyError(parsed.error)}</p>`;
      else {
        const { dryRun: _dry, ...asked } = parsed.data;
        // The confirm replays the window this dry run counted in, not the one asked (see dryRun).
        const { filter, count: total, first: found } = await actions.dryRun(asked);
        result = html`<p class="notice ${total ? 'warn' : 'ok'}" data-testid="dry-run-count">Dry run: ${total} webhook${total === 1 ? '' : 's'} would be replayed${total > found.length ? html` (the oldest ${found.length} are listed)` : ''}. Nothing has changed.</p>
${table(found, p, false)}
${found.length
  ? html`<form method="post" action="${W}/bulk">${csrfField(p)}
<input type="hidden" name="provider" value="${filter.provider}"><input type="hidden" name="since" value="${filter.since.toISOString()}"><input type="hidden" name="until" value="${filter.until.toISOString()}">
<button type="submit" data-testid="bulk-confirm">Replay these ${total}</button></form>`
  : ''}`;
      }
    }
    const since = typeof raw.since === 'string' ? raw.since.slice(0, 19) : '';
    const until = typeof raw.until === 'string' ? raw.until.slice(0, 19) : '';
    res.type('html').send(
      page(
        'Replay a window',
        '/webhooks',
        p,
        html`<p class="muted">Replays a provider's failures not yet settled in a time window, oldest first. First a dry run counts them; nothing changes until you confirm.</p>
<form class="filters" method="get" action="${W}/bulk">
<label>Provider ${providerSelect(deps, typeof raw.provider === 'string' ? raw.provider : undefined, false)}</label>
<label>Since (UTC) <input type="datetime-local" step="1" name="since" value="${since}" required></label>
<label>Until (UTC) <input type="datetime-local" step="1" name="until" value="${until}" required></label>
<button type="submit" data-testid="dry-run">Dry run</button>
</form>
${result}`,
      ),
    );
  });

  router.post('/webhooks/bulk', need('operator'), async (req, res) => {
    const p = res.locals.principal as Principal;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = replayRequest.safeParse({ provider: body.provider, since: body.since, until: body.until });
    if (!parsed.success || !deps.providers.some((i) => i.id === parsed.data.provider)) {
      return res.status(400).type('html').send(page('Replay a window', '/webhooks', p, html`<p class="notice bad" role="alert">${parsed.success ? 'unknown provider' : z.prettifyError(parsed.error)}</p>`));
    }
    const { dryRun: _dry, ...filter } = parsed.data;
    const actor = actorOf(req, res);
    const job = jobs.start({ kind: 'bulk replay', subject: filter.provider, startedBy: p.name }, (progress) => actions.replayMatching(actor, filter, progress), replayReport);
    res.redirect(303, `${CONSOLE_PATH}/jobs/${job.id}`);
  });

  router.get('/webhooks/import', need('admin'), (_req, res) => {
    const p = res.locals.principal as Principal;
    res.type('html').send(page('Import a vendor’s export', '/webhooks', p, importForm(deps, p)));
  });

  router.post('/webhooks/import', need('admin'), (req, res) => {
    const p = res.locals.principal as Principal;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const provider = typeof body.provider === 'string' ? body.provider : '';
    const refuse = (message: string) => res.status(400).type('html').send(page('Import a vendor’s export', '/webhooks', p, importForm(deps, p, html`<p class="notice bad" role="alert" data-testid="import-error">${message}</p>`)));
    if (!deps.providers.some((i) => i.id === provider)) return refuse('Choose a configured provider.');
    const notifications = parseExport(typeof body.content === 'string' ? body.content : '');
    if (!notifications.ok) return refuse(notifications.message);
    const actor = actorOf(req, res);
    const job = jobs.start({ kind: 'import', subject: provider, startedBy: p.name }, (progress) => actions.import(actor, provider, notifications.value, progress), replayReport);
    res.redirect(303, `${CONSOLE_PATH}/jobs/${job.id}`);
  });

  router.get('/webhooks/:id', async (req: express.Request<{ id: string }>, res) => {
    const p = res.locals.principal as Principal;
    const id = /^\d{1,18}$/.test(req.params.id) ? BigInt(req.params.id) : undefined;
    const row = id === undefined ? undefined : await history.get(id);
    if (!row) return res.status(404).type('html').send(page('Webhook', '/webhooks', p, html`<p class="notice warn" role="alert">No webhook ${req.params.id}.</p>`));
    res.type('html').send(page(`Webhook ${row.id}`, '/webhooks', p, detail(row, p)));
  });

  router.post('/webhooks/:id/replay', need('operator'), async (req: express.Request<{ id: string }>, res) => {
    const p = res.locals.principal as Principal;
    if (!/^\d{1,18}$/.test(req.params.id)) return res.status(400).type('html').send(page('Replay', '/webhooks', p, html`<p class="notice bad" role="alert">Not a webhook id.</p>`));
    const id = BigInt(req.params.id);
    const before = await history.get(id);
    const result = await actions.replay(actorOf(req, res), id);
    const player = before?.player_code ? await actions.player(before.player_code) : undefined;
    const balances = player?.ok
      ? html`<p data-testid="player-balances">${player.value.code} now holds ${player.value.wallets.map((w) => html`<strong data-testid="balance-${w.currency}">${formatBalance(w.balance, w.currency)} ${w.currency}</strong> `)}(<a href="${CONSOLE_PATH}/players/${encodeURIComponent(player.value.code)}">player page</a>).</p>`
      : '';
    const ok = result.outcome === 'ok' || result.outcome === 'duplicate';
    res.type('html').send(
      page(
        `Replay of webhook ${id}`,
        '/webhooks',
        p,
        html`<p class="notice ${ok ? 'ok' : 'bad'}" role="status">Replayed: <span data-testid="replay-outcome">${result.outcome}</span>${result.detail ? html` (${result.detail})` : ''}.${result.replayId ? html` New record: <a href="${W}/${result.replayId}">${result.replayId}</a>.` : ''}</p>
${balances}<p><a href="${W}/${id}">Back to webhook ${id}</a> · <a href="${W}/inbox">Inbox</a></p>`,
      ),
    );
  });
}

const formatBalance = (v: bigint, currency: string) => formatAmount(v, asCurrency(currency));

function importForm(deps: ConsoleDeps, p: Principal, notice?: SafeHtml): SafeHtml {
  return html`${notice ?? ''}<p class="muted">A vendor's back-office export of failed notifications: a JSON array or JSON lines of <code>{"body": "&lt;the request body as sent&gt;"}</code> or <code>{"payload": {...}}</code> (already decoded). Each is processed as if the vendor sent it now, kept in the history as an import; duplicates of what was applied change nothing.</p>
<form method="post" action="${W}/import" class="import">${csrfField(p)}
<label>Provider ${providerSelect(deps, undefined, false)}</label>
<label>Export file <input type="file" accept=".json,.jsonl,.txt,application/json" data-fills="content"></label>
<label>Content <textarea name="content" rows="12" cols="100" required data-testid="import-content" placeholder='{"body": "..."}'></textarea></label>
<button type="submit" data-testid="import-submit">Import</button>
</form>
<script src="${CONSOLE_PATH}/assets/console.js" defer></script>`;
}

function detail(row: WebhookRow, p: Principal): SafeHtml {
  const w = webhookJson(row);
  const replay = may(p, 'operator')
    ? html`<form method="post" action="${W}/${w.id}/replay">${csrfField(p)}<button type="submit" data-testid="replay">Replay this webhook</button></form>`
    : '';
  return html`<table class="facts" data-testid="webhook-facts">
<tr><th>Provider</th><td>${w.provider}${w.path ? html` <code>${w.path}</code>` : ''}</td></tr>
<tr><th>Received (UTC)</th><td>${w.receivedAt}</td></tr>
<tr><th>Source</th><td>${w.source}${w.replayOf ? html` of <a href="${W}/${w.replayOf}">${w.replayOf}</a>` : ''}</td></tr>
<tr><th>Player</th><td>${w.player ? html`<a href="${CONSOLE_PATH}/players/${encodeURIComponent(w.player)}">${w.player}</a>` : ''}</td></tr>
<tr><th>Transaction</th><td>${w.transactionId ?? ''}</td></tr>
<tr><th>Outcome</th><td>${outcomeTag(row)}${w.detail ? html` <span class="muted">${w.detail}</span>` : ''}</td></tr>
<tr><th>Took</th><td>${w.durationMs} ms</td></tr>
</table>
${replay}
<h2>Wallet operation</h2><pre data-testid="operation">${pretty(w.operation)}</pre>
<h2>Answer sent</h2><pre data-testid="answer">${w.answer ?? ''}</pre>
<h2>Decoded payload</h2><pre data-testid="payload">${pretty(w.payload)}</pre>
<h2>Raw body (${w.plaintext ? 'decoded payload of an import' : w.bodyEncoding})</h2><pre data-testid="raw-body">${w.body}</pre>
<h2>Headers</h2><table data-testid="headers">${Object.entries(w.headers as Record<string, string>).map(([k, v]) => html`<tr><th>${k}</th><td><code>${v}</code></td></tr>`)}</table>`;
}
