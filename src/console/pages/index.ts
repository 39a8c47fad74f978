import type express from 'express';
import type { Principal } from '../../http/auth.ts';
import { html } from '../html.ts';
import { page } from '../layout.ts';
import type { ConsoleDeps } from '../router.ts';

/** The console's pages, each a GET that renders and the POSTs its forms send. */
export function consolePages(router: express.Router, deps: ConsoleDeps): void {
  router.get('/', (_req, res) => {
    const p = res.locals.principal as Principal;
    const rows = deps.providers.map((i) => html`<tr><td>${i.id}</td><td>${i.adapter.dialect}</td></tr>`);
    res.type('html').send(page('Overview', '', p, html`<table><thead><tr><th>Provider</th><th>Dialect</th></tr></thead><tbody>${rows}</tbody></table>`));
  });
}
