import { randomBytes } from 'node:crypto';

/**
 * One-time game links, as the vendors issue them: a random token in a URL, valid for `ttlMs` (the
 * vendors say 10 minutes) and for one use only.
 */

export type Redeemed<T> = { ok: true; value: T } | { ok: false; reason: 'used' | 'expired' | 'unknown' };

/** A link that was already used or has expired (the vendor answers 410 Gone), or was never issued (404). */
export class LinkGone extends Error {
  readonly reason: 'used' | 'expired' | 'unknown';
  constructor(reason: 'used' | 'expired' | 'unknown') {
    super(`game link ${reason}`);
    this.reason = reason;
  }
}

interface Entry<T> {
  value: T;
  expires: number;
  used: boolean;
}

export class PlayLinks<T> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry<T>>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  issue(value: T): string {
    if (this.#entries.size > 10_000) this.#forgetStale();
    const token = randomBytes(18).toString('base64url');
    this.#entries.set(token, { value, expires: Date.now() + this.#ttlMs, used: false });
    return token;
  }

  redeem(token: string): Redeemed<T> {
    const entry = this.#entries.get(token);
    if (!entry) return { ok: false, reason: 'unknown' };
    if (entry.used) return { ok: false, reason: 'used' };
    if (Date.now() >= entry.expires) return { ok: false, reason: 'expired' };
    entry.used = true;
    return { ok: true, value: entry.value };
  }

  /** Links expired for a day are forgotten (a later use of one then reads as never issued). */
  #forgetStale(): void {
    const horizon = Date.now() - 86_400_000;
    for (const [token, entry] of this.#entries) if (entry.expires < horizon) this.#entries.delete(token);
  }
}

/** The token of a game URL (`<base>/play/<token>`). */
export function tokenOf(url: string): string {
  const match = /\/play\/([A-Za-z0-9_-]+)\/?$/.exec(new URL(url).pathname);
  if (!match) throw new Error(`not a game URL: ${url}`);
  return match[1]!;
}
