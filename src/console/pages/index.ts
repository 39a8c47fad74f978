import type express from 'express';
import type { ConsoleDeps } from '../router.ts';
import { auditPage } from './audit.ts';
import { jobsPage } from './jobs.ts';
import { operatorsPage } from './operators.ts';
import { overviewPage } from './overview.ts';
import { providersPage } from './providers.ts';
import { playersPage } from './players.ts';
import { reconciliationPage } from './reconciliation.ts';
import { reportsPage } from './reports.ts';
import { webhooksPage } from './webhooks.ts';

/** The console's pages, each a GET that renders and the POSTs its forms send. */
export function consolePages(router: express.Router, deps: ConsoleDeps): void {
  overviewPage(router, deps);
  webhooksPage(router, deps);
  playersPage(router, deps);
  providersPage(router, deps);
  reportsPage(router, deps);
  reconciliationPage(router, deps);
  auditPage(router, deps);
  operatorsPage(router, deps);
  jobsPage(router, deps);
}
