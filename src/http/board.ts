import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Secret } from '../config/secret.ts';
import type { Operators } from '../operators/operators.ts';
import { allows } from '../operators/operators.ts';
import { SESSION_COOKIE, bearerToken, cookieValue, forbidden, tokenVerifier, unauthorized, type Principal } from './auth.ts';

export const BOARD_PATH = '/admin/queues';
const COOKIE = 'croupier_board';

/**
 * A browser cannot put a bearer header on a page it navigates to, so the board also takes the same
 * JWT once as `?token=`: it is then kept in an HttpOnly, SameSite=Strict cookie scoped to the board
 * (living as long as the token) and the browser is sent back to the URL without it, so the token does
 * not stay in the address bar or the history. Later requests of the board's UI carry the cookie. A
 * person signed in to the console is let in by the console's session. The board retries and removes
 * jobs: it needs the operator role, and a change it is sent with a cookie must come from its own page.
 */
function boardAuth(secret: Secret, operators: Operators | undefined) {
  const verify = tokenVerifier(secret);
  return async (req: Request, res: Response, next: NextFunction) => {
    const fromQuery = typeof req.query.token === 'string' ? req.query.token : undefined;
    const token = bearerToken(req) ?? fromQuery ?? cookieValue(req, COOKIE);
    let principal: Principal | undefined;
    if (token) {
      const verified = await verify(token);
      if (!verified.ok) return unauthorized(res, verified.message);
      principal = verified.principal;
    } else {
      const session = operators ? await operators.session(cookieValue(req, SESSION_COOKIE) ?? '') : undefined;
      if (!session) return unauthorized(res, 'a Bearer token, a token query parameter, the board cookie or a console session is required');
      principal = { ...session.operator, via: 'console' };
    }
    if (!allows(principal.role, 'operator')) return forbidden(res, `the queue board needs the operator role; ${principal.name} is a ${principal.role}`);
    // The board's own pages cannot send the console's CSRF token: a change carried by a cookie must
    // come from a page of this origin, as the browser says (Sec-Fetch-Site, else Origin).
    if (!SAFE_METHODS.has(req.method) && bearerToken(req) === undefined && !fromThisOrigin(req)) {
      return forbidden(res, 'a change to the queue board with a cookie must come from the board itself (Origin / Sec-Fetch-Site)');
    }
    res.locals.principal = principal;
    if (fromQuery === undefined || token !== fromQuery) return next();
    const maxAge = principal.expiresAt === undefined ? undefined : Math.max(0, principal.expiresAt * 1000 - Date.now());
    res.cookie(COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: BOARD_PATH, ...(maxAge === undefined ? {} : { maxAge }) });
    const url = new URL(req.originalUrl, 'http://board');
    url.searchParams.delete('token');
    res.redirect(303, `${url.pathname}${url.search}`);
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether the browser says the request comes from a page of this origin. Sec-Fetch-Site is the
 * browser's own verdict; without it, Origin must name this host. A request with neither (a script,
 * an old browser) is not taken for one.
 */
function fromThisOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin === undefined) return false;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/** Bull Board for the gateway's queues at /admin/queues, behind the back office's JWT. */
export function boardRouter(queues: readonly Queue[], secret: Secret, operators?: Operators) {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BOARD_PATH);
  // @bull-board/express 9.10.1 declares its own copy of @bull-board/api's types (9.10.1, one patch
  // behind ours); at run time it only calls the adapter methods both versions share.
  const serverAdapter = adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter });
  const router = express.Router();
  router.use(boardAuth(secret, operators), adapter.getRouter());
  return router;
}
