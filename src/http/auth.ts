import type { NextFunction, Request, Response } from 'express';
import { jwtVerify } from 'jose';
import type { Secret } from '../config/secret.ts';
import type { Role } from '../ledger/schema.ts';
import type { Actor } from '../operators/audit.ts';
import { allows, ROLES, type Operators } from '../operators/operators.ts';

/**
 * Who is calling: a machine with a bearer JWT (HS256, ADMIN_JWT_SECRET, with `sub`, `role` and `exp`),
 * or a person signed in to the console (the session cookie; `csrf` then guards every change).
 */
export interface Principal {
  name: string;
  role: Role;
  via: 'token' | 'console';
  /** Unix seconds. */
  expiresAt?: number | undefined;
  csrf?: string | undefined;
}

export const SESSION_COOKIE = 'croupier_session';
export const CSRF_HEADER = 'x-csrf-token';

type Verified = { ok: true; principal: Principal } | { ok: false; message: string };

/** The longest a back-office token may live: a year and a day. A longer one is refused, not trusted for ever. */
export const MAX_TOKEN_SECONDS = 366 * 86_400;

/** Checks a back-office JWT: signed with the secret, HS256 only, unexpired, and naming its role and expiry. */
export function tokenVerifier(secret: Secret) {
  const key = new TextEncoder().encode(secret.reveal());
  return async (token: string): Promise<Verified> => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
    } catch {
      return { ok: false, message: 'invalid or expired token' };
    }
    if (typeof payload.exp !== 'number') return { ok: false, message: 'the token has no expiry (exp): mint one with `npm run cli -- token --role <role> --ttl <duration>`' };
    if (payload.exp > Date.now() / 1000 + MAX_TOKEN_SECONDS) return { ok: false, message: 'the token lives longer than 366 days: mint one with a shorter --ttl' };
    const role = payload.role;
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) return { ok: false, message: `the token has no role (role: ${ROLES.join(', ')})` };
    return { ok: true, principal: { name: typeof payload.sub === 'string' ? payload.sub : 'unknown', role: role as Role, via: 'token', expiresAt: payload.exp } };
  };
}

export const bearerToken = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

/** A cookie's value; a value that is not valid percent-encoding is no value (no session), never a fault. */
export function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('=')) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export const unauthorized = (res: Response, message: string) => res.status(401).json({ error: { code: 'unauthorized', message } });
export const forbidden = (res: Response, message: string) => res.status(403).json({ error: { code: 'forbidden', message } });

/** The principal of a request already authenticated by `authenticate`. */
export const principalOf = (res: Response): Principal => res.locals.principal as Principal;

/** The audit trail's view of the caller. */
export const actorOf = (req: Request, res: Response): Actor => {
  const p = principalOf(res);
  return { name: p.name, via: p.via, ip: req.ip };
};

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates /v1 (and the board): a bearer token, else a console session cookie. A change made
 * with a session cookie must carry the session's CSRF token (header x-csrf-token or form field
 * `_csrf`): a cookie is sent by the browser whoever built the request, the token only by our pages.
 */
export function authenticate(secret: Secret, operators: Operators | undefined) {
  const verify = tokenVerifier(secret);
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (token) {
      const verified = await verify(token);
      if (!verified.ok) return unauthorized(res, verified.message);
      res.locals.principal = verified.principal;
      return next();
    }
    const cookie = cookieValue(req, SESSION_COOKIE);
    const session = cookie && operators ? await operators.session(cookie) : undefined;
    if (!session) return unauthorized(res, 'a Bearer token or a console session is required');
    if (!SAFE.has(req.method)) {
      const sent = req.get(CSRF_HEADER) ?? (typeof (req.body as { _csrf?: unknown } | undefined)?._csrf === 'string' ? (req.body as { _csrf: string })._csrf : undefined);
      if (sent !== session.csrf) return forbidden(res, 'a change from the console needs its CSRF token');
    }
    res.locals.principal = { ...session.operator, via: 'console', csrf: session.csrf, expiresAt: Math.floor(session.expiresAt.getTime() / 1000) } satisfies Principal;
    next();
  };
}

/** Lets through a principal whose role includes `needed`: viewer < operator < admin. */
export function allow(needed: Role) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const p = res.locals.principal as Principal | undefined;
    if (!p) return unauthorized(res, 'not signed in');
    if (!allows(p.role, needed)) return forbidden(res, `this needs the ${needed} role; ${p.name} is ${p.role === 'admin' ? 'an' : 'a'} ${p.role}`);
    next();
  };
}
