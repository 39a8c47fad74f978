import type express from 'express';
import type { Principal } from '../../http/auth.ts';
import { providerTraffic } from '../../webhooks/stats.ts';
import { html } from '../html.ts';
import { CONSOLE_PATH, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';
import { healthTag, since } from './overview.ts';

/**
 * The configured provider instances: dialect, the currency of its vendor API, who may call it (the
 * allow-list), whether the casino can call the vendor, and its health from the webhook history.
 * Credentials are never shown: the page names the headers that carry them, not their values.
 */
export function providersPage(router: express.Router, deps: ConsoleDeps): void {
  router.get('/providers', async (_req, res) => {
    const p = res.locals.principal as Principal;
    const now = new Date();
    const traffic = new Map((await providerTraffic(deps.db, deps.providers.map((i) => i.id), now)).map((t) => [t.provider, t]));
    const views = new Map(deps.vendors.providers().map((v) => [v.id, v]));
    const rows = deps.providers.map((i) => {
      const t = traffic.get(i.id)!;
      const api = views.get(i.id)?.api;
      const allow = i.allowFrom === null ? html`<span class="muted">any address</span>` : html`${i.allowFrom.rules.map((r) => html`<code>${r}</code> `)}`;
      return html`<tr data-testid="provider-row-${i.id}">
<td><strong>${i.id}</strong></td>
<td>${i.adapter.dialect}</td>
<td>${api?.currency ?? html`<span class="muted">per call</span>`}</td>
<td>${allow}</td>
<td>${i.adapter.credentialHeaders.map((h) => html`<code>${h}</code> `)}</td>
<td>${api ? html`yes${api.studios ? ' (studios)' : ''}` : html`<span class="muted">none</span>`}</td>
<td>${healthTag(t, now)}</td>
<td>${since(t.lastCallAt, now)}</td>
<td><a href="${CONSOLE_PATH}/webhooks?provider=${encodeURIComponent(i.id)}">history</a></td>
</tr>`;
    });
    res.type('html').send(
      page(
        'Providers',
        '/providers',
        p,
        html`<table data-testid="providers">
<thead><tr><th>Instance</th><th>Dialect</th><th>Currency</th><th>Allowed callers</th><th>Credential headers</th><th>Vendor API</th><th>Health</th><th>Last call</th><th></th></tr></thead>
<tbody>${rows}</tbody>
</table>
<p class="muted">Instances come from <code>providers.json</code> in <code>CONFIG_DIR</code> (<code>config/</code> by default); their secrets from the environment, never shown here.</p>`,
      ),
    );
  });
}
