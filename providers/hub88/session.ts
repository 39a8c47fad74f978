import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Secret } from '../../src/config/secret.ts';
import { isCurrency, type Currency } from '../../src/money/currency.ts';

/**
 * The game session token. Hub88 passes back, in /user/balance and every transaction, the token the
 * casino gave it when it launched the game. Croupier keeps no session table: the token is an HS256
 * JWT the instance signs with its `tokenSecret`, naming the player (`sub`), the session's currency
 * (`cur`) and the instance (`aud`), valid `tokenTtlSeconds` (default 4 h). The outbound launch, the
 * simulator and the conformance driver mint it with `mintSessionToken`.
 */

export const DEFAULT_TOKEN_TTL_SECONDS = 4 * 60 * 60;

/** Who issues tokens: the instance id (the audience) and its options' `tokenSecret` (and `tokenTtlSeconds`). */
export interface SessionIssuer {
  instance: string;
  tokenSecret: Secret | string;
  tokenTtlSeconds?: number;
}

export type SessionCheck =
  | { ok: true; currency: Currency; expired: boolean }
  | { ok: false; problem: 'invalid' | 'expired'; detail: string };

const keyOf = (secret: Secret | string) => new TextEncoder().encode(typeof secret === 'string' ? secret : secret.reveal());

/** One instance's tokens: minted and verified under its secret, for its audience. */
export class SessionTokens {
  readonly #instance: string;
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(issuer: SessionIssuer) {
    this.#instance = issuer.instance;
    this.#key = keyOf(issuer.tokenSecret);
    this.#ttlSeconds = issuer.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  }

  /** A token for `player` playing in `currency`, valid `ttlSeconds` from now (a ttl <= 0 mints one already expired, for tests). */
  mint(player: string, currency: Currency | string, ttlSeconds: number = this.#ttlSeconds): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ cur: currency })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(player)
      .setAudience(this.#instance)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.#key);
  }

  /**
   * Whether `token` is this instance's, for `player`, and still valid. A token signed under another
   * key, for another instance or another player, or unreadable, is `invalid`; past its `exp`,
   * `expired`. With `allowExpired` (a re-read of a call checked when it arrived), an expired token
   * that is otherwise good is accepted.
   */
  async verify(token: string, player: string, { allowExpired = false }: { allowExpired?: boolean } = {}): Promise<SessionCheck> {
    let claims: JWTPayload;
    let expired = false;
    try {
      ({ payload: claims } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        audience: this.#instance,
        subject: player,
        requiredClaims: ['sub', 'aud', 'exp'],
      }));
    } catch (error) {
      // jose checks the signature, then sub and aud, and exp last: an expired token was otherwise good.
      if (error instanceof errors.JWTExpired) {
        if (!allowExpired) return { ok: false, problem: 'expired', detail: 'the session token has expired' };
        claims = error.payload;
        expired = true;
      } else if (error instanceof errors.JOSEError) {
        return { ok: false, problem: 'invalid', detail: `session token: ${error.code}` };
      } else throw error;
    }
    const currency = claims.cur;
    if (typeof currency !== 'string' || !isCurrency(currency)) return { ok: false, problem: 'invalid', detail: 'the session token names no currency' };
    return { ok: true, currency, expired };
  }
}

/** Mints a session token (see SessionTokens.mint): `mintSessionToken({ instance: id, ...options }, player, currency)`. */
export function mintSessionToken(issuer: SessionIssuer, player: string, currency: Currency | string, ttlSeconds?: number): Promise<string> {
  return new SessionTokens(issuer).mint(player, currency, ttlSeconds);
}
