import type express from 'express';
import type { Principal } from '../../http/auth.ts';
import { html, type SafeHtml } from '../html.ts';
import type { ConsoleJob, JobKind } from '../jobs.ts';
import { CONSOLE_PATH, page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

/** The page each kind of job belongs to, for the navigation and the way back. */
const HOME: Record<JobKind, { path: string; label: string }> = {
  'bulk replay': { path: '/webhooks', label: 'the webhooks' },
  import: { path: '/webhooks', label: 'the webhooks' },
  'vendor reconciliation': { path: '/reconciliation', label: 'the reconciliation page' },
  'ledger check': { path: '', label: 'the overview' },
};

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 23);
const seconds = (job: ConsoleJob) => (((job.finishedAt ?? new Date()).getTime() - job.startedAt.getTime()) / 1000).toFixed(1);

/** A job's page: its progress while it runs (the page reloads itself), then what it did. */
export function jobBody(job: ConsoleJob): SafeHtml {
  const home = HOME[job.kind];
  const head = html`<p data-testid="job-state">${job.kind} of ${job.subject}, started by ${job.startedBy} at ${when(job.startedAt)}: <strong>${job.state}</strong> (${seconds(job)} s)</p>`;
  const back = html`<p><a href="${CONSOLE_PATH}${home.path}">Back to ${home.label}</a></p>`;
  if (job.state === 'running') {
    const counted = job.total !== undefined;
    const share = counted && job.total ? Math.round((job.done / job.total) * 100) : 0;
    const bar = counted ? html`<progress max="${job.total ?? 1}" value="${job.done}">${share} %</progress> ${job.done} of ${job.total ?? '?'}` : html`<progress>working</progress>`;
    return html`${head}<p>${bar}</p><p class="muted">This page reloads itself until the job ends; leaving it does not stop the job.</p>${back}`;
  }
  if (job.state === 'failed') return html`${head}<p class="notice bad" role="alert" data-testid="job-failed">${job.error}</p>${back}`;
  return html`${head}${job.report!.html}${back}`;
}

/** Every job's progress page, whatever started it. */
export function jobsPage(router: express.Router, deps: ConsoleDeps): void {
  router.get('/jobs/:id', (req: express.Request<{ id: string }>, res) => {
    const p = res.locals.principal as Principal;
    const job = deps.jobs.get(req.params.id);
    if (!job) return res.status(404).type('html').send(page('Job', '', p, html`<p class="notice warn" role="alert">No such job in this gateway process (jobs are kept by the process that runs them; their outcome is in the <a href="${CONSOLE_PATH}/audit">audit trail</a>).</p>`));
    const title = `${job.kind[0]!.toUpperCase()}${job.kind.slice(1)}`;
    res.type('html').send(page(title, HOME[job.kind].path, p, jobBody(job), { refreshSeconds: job.state === 'running' ? 1 : undefined }));
  });
}
