import type { NextFunction, Request, Response } from 'express';
import { jwtVerify } from 'jose';
import type { Secret } from '../config/secret.ts';

export interface Operator {
  /** The token's `sub`. */
  name: string;
  /** The token's `exp`, in unix seconds, when it has one. */
  expiresAt?: number | undefined;
}

/** Checks a back-office JWT (HS256, signed with ADMIN_JWT_SECRET, `exp` honoured): the operator, or undefined. */
export function adminVerifier(secret: Secret) {
  const key = new TextEncoder().encode(secret.reveal());
  return async (token: string): Promise<Operator | undefined> => {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      return { name: typeof payload.sub === 'string' ? payload.sub : 'unknown', expiresAt: payload.exp };
    } catch {
      return undefined;
    }
  };
}

export const bearerToken = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

export const unauthorized = (res: Response, message: string) => res.status(401).json({ error: { code: 'unauthorized', message } });

/** Bearer JWT for the casino's back office. */
export function requireAdmin(secret: Secret) {
  const verify = adminVerifier(secret);
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (!token) return unauthorized(res, 'a Bearer token is required');
    const operator = await verify(token);
    if (!operator) return unauthorized(res, 'invalid or expired token');
    res.locals.operator = operator.name;
    next();
  };
}
