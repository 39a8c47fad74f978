import { z } from 'zod';
import { formatAmount } from '../money/minor.ts';
import type { Currency } from '../money/currency.ts';
import type { Game, Studio, VendorError } from '../gateway/vendor-api.ts';
import type { Launch, ProviderView, Registration, VendorsRefusal } from './vendors.ts';

/**
 * Registration, games and launch as the two edges speak them, the /v1 API and the CLI: one set of
 * input schemas and one JSON shape for answers.
 */

const lang = z.string().regex(/^[a-z]{2}(-[A-Za-z]{2})?$/, 'a language code such as en or pt-BR').default('en');
const decimal = z.string().trim().max(64);

export const catalogueRequest = z.object({ lang, studio: z.string().trim().min(1).max(100).optional() });

export const launchRequest = z.object({
  provider: z.string().trim().min(1).max(100),
  game: z.string().trim().min(1).max(200),
  /** The game's studio at an aggregating vendor; found in the catalogue when absent. */
  studio: z.string().trim().min(1).max(100).optional(),
  lang,
  returnUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  limits: z.object({ min: decimal, max: decimal }).optional(),
});

/** HTTP status of each refusal: 4xx when the request cannot be served as asked, 5xx when the vendor failed. */
export const VENDOR_STATUS: Readonly<Record<VendorsRefusal | VendorError, number>> = {
  unknown_provider: 404,
  unknown_player: 404,
  not_registered: 404,
  game_not_found: 404,
  invalid_request: 400,
  currency_mismatch: 422,
  currency_not_supported: 422,
  insufficient_balance: 422,
  player_blocked: 403,
  user_code_taken: 409,
  not_supported: 501,
  maintenance: 503,
  busy: 503,
  ip_not_allowed: 502,
  unauthorized: 502,
  user_not_found: 502,
  expired: 502,
  unreachable: 502,
  vendor_error: 502,
  timeout: 504,
};

export const vendorRefusalJson = (reason: VendorsRefusal | VendorError, detail: string) => ({ error: { code: reason, message: detail } });

export const registrationJson = (r: Registration) => ({
  player: r.player,
  provider: r.provider,
  userCode: r.userCode,
  registeredAt: r.registeredAt.toISOString(),
});

export const launchJson = (l: Launch) => ({ url: l.url, ...registrationJson(l.registration) });

export const gameJson = (g: Game, currency: Currency) => ({
  id: g.id,
  name: g.name,
  ...(g.type === undefined ? {} : { type: g.type }),
  ...(g.studio === undefined ? {} : { studio: g.studio }),
  ...(g.limits ? { limits: { min: formatAmount(g.limits.min, currency), max: formatAmount(g.limits.max, currency) } } : {}),
});

export const studioJson = (s: Studio) => ({ id: s.id, name: s.name });

export const providerJson = (p: ProviderView) => ({ id: p.id, dialect: p.dialect, api: p.api ?? null });
