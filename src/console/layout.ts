import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '../http/auth.ts';
import type { Role } from '../ledger/schema.ts';
import { allows } from '../operators/operators.ts';
import { html, type SafeHtml } from './html.ts';

export const CONSOLE_PATH = '/console';

/** The console's pages, in the order of its navigation bar; a page a role may not open is not in its bar. */
export const PAGES: readonly { path: string; title: string; role: Role }[] = [
  { path: '', title: 'Overview', role: 'viewer' },
  { path: '/webhooks', title: 'Webhooks', role: 'viewer' },
  { path: '/players', title: 'Players', role: 'viewer' },
  { path: '/providers', title: 'Providers', role: 'viewer' },
  { path: '/reports', title: 'Reports', role: 'viewer' },
  { path: '/reconciliation', title: 'Reconciliation', role: 'viewer' },
  { path: '/audit', title: 'Audit', role: 'viewer' },
  { path: '/operators', title: 'Operators', role: 'admin' },
];

/** The hidden field every console form carries: the session's CSRF token. */
export const csrfField = (p: Principal) => html`<input type="hidden" name="_csrf" value="${p.csrf ?? ''}">`;

/** A whole page: the navigation, who is signed in (with the sign-out button), and `body`. */
export function page(title: string, current: string, p: Principal, body: SafeHtml, opts: { refreshSeconds?: number | undefined } = {}): string {
  const nav = PAGES.filter((entry) => allows(p.role, entry.role)).map(
    (entry) => html`<a href="${CONSOLE_PATH}${entry.path}" ${entry.path === current ? html`aria-current="page"` : ''}>${entry.title}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Croupier console</title>
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
${opts.refreshSeconds ? html`<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : ''}
</head>
<body>
<header>
<strong>Croupier</strong>
<nav>${nav}</nav>
<div class="who"><a href="/v1/docs">API</a> <a href="${CONSOLE_PATH}/account">Account</a> <span data-testid="who">${p.name} · ${p.role}</span>
<form method="post" action="${CONSOLE_PATH}/sign-out">${csrfField(p)}<button class="secondary" type="submit">Sign out</button></form></div>
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

/** A page outside the session: the sign-in form. */
export function bare(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Croupier console</title>
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
</head>
<body>
<main class="signin card">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

/**
 * The console's role check, as /v1's `allow` is (src/http/auth.ts): the server refuses whatever the
 * page showed, with a page saying why rather than JSON.
 */
export function need(role: Role) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const p = res.locals.principal as Principal;
    if (allows(p.role, role)) return next();
    res.status(403).type('html').send(page('Not allowed', '', p, html`<p class="notice bad" role="alert" data-testid="forbidden">This needs the ${role} role; you are signed in as ${p.role}.</p>`));
  };
}

/** Whether the signed-in person may do what `role` may: a page shows a button only then. */
export const may = (p: Principal, role: Role) => allows(p.role, role);
