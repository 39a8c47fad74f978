import type { NextFunction, Request, Response } from 'express';
import { jwtVerify } from 'jose';
import type { Secret } from '../config/secret.ts';

/** Bearer JWT (HS256) for the casino's back office: signed with ADMIN_JWT_SECRET, `exp` honoured. */
export function requireAdmin(secret: Secret) {
  const key = new TextEncoder().encode(secret.reveal());
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'a Bearer token is required' } });
      return;
    }
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
      res.locals.operator = typeof payload.sub === 'string' ? payload.sub : 'unknown';
      next();
    } catch {
      res.status(401).json({ error: { code: 'unauthorized', message: 'invalid or expired token' } });
    }
  };
}
