import type { Principal } from '../http/auth.ts';
import { html, type SafeHtml } from './html.ts';

export const CONSOLE_PATH = '/console';

/** The console's pages, in the order of its navigation bar. */
export const PAGES = [
  { path: '', title: 'Overview' },
  { path: '/webhooks', title: 'Webhooks' },
  { path: '/players', title: 'Players' },
  { path: '/providers', title: 'Providers' },
  { path: '/audit', title: 'Audit' },
] as const;

/** The hidden field every console form carries: the session's CSRF token. */
export const csrfField = (p: Principal) => html`<input type="hidden" name="_csrf" value="${p.csrf ?? ''}">`;

/** A whole page: the navigation, who is signed in (with the sign-out button), and `body`. */
export function page(title: string, current: string, p: Principal, body: SafeHtml): string {
  const nav = PAGES.map(
    (entry) => html`<a href="${CONSOLE_PATH}${entry.path}" ${entry.path === current ? html`aria-current="page"` : ''}>${entry.title}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Croupier console</title>
<link rel="stylesheet" href="${CONSOLE_PATH}/assets/console.css">
</head>
<body>
<header>
<strong>Croupier</strong>
<nav>${nav}</nav>
<div class="who"><span data-testid="who">${p.name} · ${p.role}</span>
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
