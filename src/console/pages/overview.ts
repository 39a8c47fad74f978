import type express from 'express';
import type { Principal } from '../../http/auth.ts';
import { reconcile } from '../../ledger/reconcile.ts';
import { providerTraffic, trafficHealth, type ProviderTraffic } from '../../webhooks/stats.ts';
import { html, type SafeHtml } from '../html.ts';
import { CONSOLE_PATH, csrfField, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

/** "3 min ago", "2 h ago": how long since a time, for a person scanning a table. */
export function since(at: Date | null, now = new Date()): string {
  if (at === null) return 'never';
  const s = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

const HEALTH_LABEL = { failing: 'failing', silent: 'silent', idle: 'no calls today', ok: 'ok' } as const;
const HEALTH_TAG = { failing: 'fault', silent: 'warn', idle: '', ok: 'ok' } as const;

export const healthTag = (t: ProviderTraffic, now: Date): SafeHtml => {
  const h = trafficHealth(t, now);
  return html`<span class="tag ${HEALTH_TAG[h]}" data-testid="health-${t.provider}">${HEALTH_LABEL[h]}</span>`;
};

const ms = (v: number | null) => (v === null ? '–' : `${v} ms`);

/**
 * The overview: per provider, the vendor's calls and failures in the last 5 minutes and hour, time to
 * answer, open failures, time since the last call (a silent vendor is a warning); the queues' depths;
 * and the ledger check on demand (it reads every account, so it runs when asked, not on every visit).
 */
export function overviewPage(router: express.Router, deps: ConsoleDeps): void {
  router.get('/', async (_req, res) => {
    const p = res.locals.principal as Principal;
    const now = new Date();
    const [traffic, depth] = await Promise.all([providerTraffic(deps.db, deps.providers.map((i) => i.id), now), deps.parking.depth()]);
    const open = traffic.reduce((n, t) => n + t.openFailures, 0);
    const rows = traffic.map(
      (t) => html`<tr data-testid="provider-${t.provider}">
<td><a href="${CONSOLE_PATH}/webhooks?provider=${encodeURIComponent(t.provider)}">${t.provider}</a></td>
<td>${healthTag(t, now)}</td>
<td class="num">${t.calls5m}</td><td class="num">${t.failures5m}</td>
<td class="num">${t.callsHour}</td><td class="num">${t.failuresHour}</td>
<td class="num">${ms(t.p50Ms)}</td><td class="num">${ms(t.p99Ms)}</td>
<td class="num">${t.openFailures > 0 ? html`<a href="${CONSOLE_PATH}/webhooks/inbox?provider=${encodeURIComponent(t.provider)}">${t.openFailures}</a>` : '0'}</td>
<td>${since(t.lastCallAt, now)}</td>
</tr>`,
    );
    const queues = Object.entries(depth).map(
      ([name, c]) => html`<tr><td>${name}</td><td class="num">${c.waiting ?? 0}</td><td class="num">${c.active ?? 0}</td><td class="num">${c.delayed ?? 0}</td><td class="num">${c.failed ?? 0}</td></tr>`,
    );
    res.type('html').send(
      page(
        'Overview',
        '',
        p,
        html`${open > 0 ? html`<p class="notice bad" data-testid="open-failures">${open} failed webhook${open === 1 ? '' : 's'} wait for a replay: <a href="${CONSOLE_PATH}/webhooks/inbox">open the inbox</a>.</p>` : ''}
<h2>Providers</h2>
<table data-testid="traffic">
<thead><tr><th>Provider</th><th>Health</th><th class="num">Calls 5 min</th><th class="num">Failed 5 min</th><th class="num">Calls 1 h</th><th class="num">Failed 1 h</th><th class="num">p50 1 h</th><th class="num">p99 1 h</th><th class="num">Open failures</th><th>Last call</th></tr></thead>
<tbody>${rows}</tbody>
</table>
<p class="muted">Calls are the vendors' own (the casino's retries and replays are not counted); failed means answered with a fault, parked for a retry, or rejected at the door.</p>
<h2>Queues</h2>
<table data-testid="queues"><thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Active</th><th class="num">Delayed</th><th class="num">Failed</th></tr></thead><tbody>${queues}</tbody></table>
<p class="muted">Job details: <a href="/admin/queues">the queue board</a>.</p>
<h2>Ledger</h2>
<form method="post" action="${CONSOLE_PATH}/ledger-check">${csrfField(p)}<button class="secondary" type="submit" data-testid="ledger-check">Check the ledger now</button></form>`,
      ),
    );
  });

  // The check reads the whole ledger (seconds to minutes on a large one): it runs as a job, its page
  // reloading itself until the verdict, so no request waits on it. One at a time: a request while one
  // runs is sent to that one's page, so nobody (a viewer may check) can pile full scans on Postgres.
  router.post('/ledger-check', (_req, res) => {
    const p = res.locals.principal as Principal;
    const job = deps.jobs.join({ kind: 'ledger check', subject: 'the ledger', startedBy: p.name }, () => reconcile(deps.db), (breaks) => ({
      good: breaks.length === 0,
      html:
        breaks.length === 0
          ? html`<p class="notice ok" data-testid="ledger-clean">The ledger reconciles: every balance equals its transfers, every currency sums to zero, every round line agrees with its money.</p>`
          : html`<p class="notice bad" data-testid="ledger-breaks">${breaks.length} break${breaks.length === 1 ? '' : 's'} found.</p>
<table><thead><tr><th>Check</th><th>Detail</th></tr></thead><tbody>${breaks.map((b) => html`<tr><td>${b.check}</td><td>${b.detail}</td></tr>`)}</tbody></table>`,
    }));
    res.redirect(303, `${CONSOLE_PATH}/jobs/${job.id}`);
  });
}
