import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { CSRF_HEADER, SESSION_COOKIE, cookieValue, type Principal } from '../http/auth.ts';
import type { ProviderInstance } from '../gateway/contract.ts';
import type { Db } from '../ledger/database.ts';
import type { Audit } from '../operators/audit.ts';
import type { Operators } from '../operators/operators.ts';
import type { Parking } from '../queue/parking.ts';
import type { BackOffice } from '../wallet/backoffice.ts';
import type { WebhookHistory } from '../webhooks/history.ts';
import type { OperatorActions } from '../operators/actions.ts';
import type { VendorReconciler } from '../reconcile/reconciler.ts';
import type { Reports } from '../reports/ggr.ts';
import type { Vendors } from '../vendors/vendors.ts';
import type { Replayer } from '../webhooks/replay.ts';
import { html } from './html.ts';
import type { ConsoleJobs } from './jobs.ts';
import { SCRIPT } from './script.ts';
import { CONSOLE_PATH, bare, page } from './layout.ts';
import { CSS } from './style.ts';

/** The sign-in form's own CSRF token (double-submit): a cross-site page cannot sign a browser in as someone else. */
const SIGN_IN_COOKIE = 'croupier_sign_in';

/** What the console's pages read and change: the same objects /v1 and the CLI use (one place per rule). */
export interface ConsoleDeps {
  operators: Operators;
  audit: Audit;
  backOffice: BackOffice;
  history: WebhookHistory;
  replayer: Replayer;
  parking: Parking;
  providers: readonly ProviderInstance[];
  vendors: Vendors;
  reports: Reports;
  actions: OperatorActions;
  reconciler: VendorReconciler;
  jobs: ConsoleJobs;
  db: Db;
  /** The largest import (a vendor's export) a form may send; other forms are small. */
  importLimit: string;
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Only a path inside the console: a sign-in never sends a browser elsewhere. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/console(\/[\w\-/.?=&%]*)?$/.test(next) && !next.startsWith('//') ? next : CONSOLE_PATH);

/**
 * The operators' console at /console: server-rendered pages (no script needed), signed in with a
 * session cookie (HttpOnly, SameSite=Strict, Secure over TLS), every form carrying the session's
 * CSRF token. Roles are enforced here as in /v1; pages are added by `pages` (src/console/pages/).
 */
export function consoleRouter(deps: ConsoleDeps, pages: (router: express.Router, deps: ConsoleDeps) => void) {
  const { operators } = deps;
  const router = express.Router();
  router.use(
    helmet({
      // Everything the pages load is the gateway's own (the charts are inline data: images). Served over
      // plain HTTP on a private network as often as behind TLS: upgrading its requests to https (helmet's
      // default) would break the stylesheet and every form there, and HSTS is the proxy's to send.
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'font-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': null,
        },
      },
      strictTransportSecurity: false,
    }),
  );
  router.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  router.get('/assets/console.css', (_req, res) => {
    res.set('cache-control', 'public, max-age=3600').type('css').send(CSS);
  });
  router.get('/assets/console.js', (_req, res) => {
    res.set('cache-control', 'public, max-age=3600').type('js').send(SCRIPT);
  });
  // Forms are small, but for an import, which carries a vendor's export (IMPORT_BODY_LIMIT). Only the
  // sign-in form is read before the session is known: nobody else gets the gateway to read a body.
  const small = express.urlencoded({ extended: false, limit: '64kb' });
  const large = express.urlencoded({ extended: false, limit: deps.importLimit });

  router.get('/sign-in', (req, res) => {
    const token = randomBytes(18).toString('base64url');
    res.cookie(SIGN_IN_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: `${CONSOLE_PATH}/sign-in` });
    const problem = req.query.problem;
    const notice =
      problem === 'braked'
        ? html`<p class="notice bad" role="alert">Too many failed sign-ins. Try again later.</p>`
        : problem === 'failed'
          ? html`<p class="notice bad" role="alert">Wrong name or password.</p>`
          : problem === 'password'
            ? html`<p class="notice ok" role="status">Your password is changed: sign in with it.</p>`
            : problem === 'expired'
            ? html`<p class="notice warn" role="alert">Your session ended. Sign in again.</p>`
            : '';
    res.type('html').send(
      bare(
        'Sign in',
        html`${notice}<form method="post" action="${CONSOLE_PATH}/sign-in">
<input type="hidden" name="_csrf" value="${token}">
<input type="hidden" name="next" value="${safeNext(req.query.next)}">
<label>Name <input name="name" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
      ),
    );
  });

  router.post('/sign-in', small, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const expected = cookieValue(req, SIGN_IN_COOKIE);
    if (!expected || typeof body._csrf !== 'string' || !same(body._csrf, expected)) {
      return res.status(403).type('html').send(bare('Sign in', html`<p class="notice bad" role="alert">This sign-in form has expired. <a href="${CONSOLE_PATH}/sign-in">Open it again</a>.</p>`));
    }
    const name = typeof body.name === 'string' ? body.name.trim().toLowerCase() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const result = await operators.signIn(name, password, { ip: req.ip, userAgent: req.get('user-agent') });
    if (!result.ok) return res.redirect(303, `${CONSOLE_PATH}/sign-in?problem=${result.reason === 'braked' ? 'braked' : 'failed'}`);
    res.clearCookie(SIGN_IN_COOKIE, { path: `${CONSOLE_PATH}/sign-in` });
    res.cookie(SESSION_COOKIE, result.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      maxAge: result.session.expiresAt.getTime() - Date.now(),
    });
    res.redirect(303, safeNext(body.next));
  });

  // Everything below needs a live session.
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = cookieValue(req, SESSION_COOKIE);
    const session = token ? await operators.session(token) : undefined;
    if (!session) {
      if (req.method !== 'GET') return res.status(401).type('html').send(bare('Signed out', html`<p class="notice warn" role="alert">Your session ended. <a href="${CONSOLE_PATH}/sign-in">Sign in again</a>.</p>`));
      return res.redirect(303, `${CONSOLE_PATH}/sign-in?${token ? 'problem=expired&' : ''}next=${encodeURIComponent(req.originalUrl)}`);
    }
    res.locals.principal = { ...session.operator, via: 'console', csrf: session.csrf, expiresAt: Math.floor(session.expiresAt.getTime() / 1000) } satisfies Principal;
    res.locals.sessionToken = token;
    next();
  });
  router.use((req, res, next) => (req.method === 'POST' && req.path === '/webhooks/import' ? large : small)(req, res, next));
  router.use((req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const principal = res.locals.principal as Principal;
    const sent = req.get(CSRF_HEADER) ?? (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof sent !== 'string' || !same(sent, principal.csrf ?? '')) {
      return res.status(403).type('html').send(page('Refused', '', principal, html`<p class="notice bad" role="alert">This form has expired: reload the page and try again.</p>`));
    }
    next();
  });

  router.post('/sign-out', async (req, res) => {
    const p = res.locals.principal as Principal;
    await operators.signOut(res.locals.sessionToken as string, { name: p.name, via: 'console', ip: req.ip });
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, `${CONSOLE_PATH}/sign-in`);
  });

  pages(router, deps);
  return router;
}
