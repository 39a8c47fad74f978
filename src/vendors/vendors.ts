import type { Currency } from '../money/currency.ts';
import { parseAmount, type Minor } from '../money/minor.ts';
import type { Db } from '../ledger/database.ts';
import type { PlayerStatus } from '../ledger/schema.ts';
import type { Game, Studio, VendorApi, VendorError } from '../gateway/vendor-api.ts';
import type { PlayerCode } from '../wallet/types.ts';

/** Why Croupier itself would not ask the vendor. */
export type VendorsRefusal =
  | 'unknown_provider'
  /** The provider has no vendor API configured (or its dialect has none). */
  | 'not_supported'
  | 'unknown_player'
  /** The player has no wallet in the vendor account's currency. */
  | 'currency_mismatch'
  | 'player_blocked'
  /** The vendor gave a user code that is already another player's. */
  | 'user_code_taken'
  /** The player has not been registered with that provider. */
  | 'not_registered';

export type VendorsResult<T> = { ok: true; value: T; created?: boolean } | { ok: false; reason: VendorsRefusal | VendorError; detail: string };

export interface Registration {
  player: PlayerCode;
  provider: string;
  userCode: string;
  registeredAt: Date;
}

export interface ProviderView {
  id: string;
  dialect: string;
  /** Present when the provider's vendor API is configured. */
  api?: { currency: Currency; studios: boolean; userInfo: boolean };
}

export interface LaunchOptions {
  game: string;
  studio?: string | undefined;
  lang: string;
  returnUrl?: string | undefined;
  /** Bet limits in currency units (decimal text), for vendors that take them. */
  limits?: { min: string; max: string } | undefined;
}

export interface Launch {
  url: string;
  registration: Registration;
}

interface Wallet {
  playerId: bigint;
  status: PlayerStatus;
  balance: Minor;
}

const refuse = (reason: VendorsRefusal | VendorError, detail: string) => ({ ok: false as const, reason, detail });

/**
 * The casino's calls to its vendors, in one shape whatever the dialect: register a player (once; the
 * vendor's user code is kept in `provider_users`), list games, launch a game. The dialect's VendorApi
 * does the talking; this decides who may be registered or launched, with which wallet.
 */
export class Vendors {
  readonly #db: Db;
  readonly #apis: ReadonlyMap<string, VendorApi>;
  readonly #dialects: ReadonlyMap<string, string>;

  constructor(db: Db, providers: readonly { id: string; dialect: string; api: VendorApi | undefined }[]) {
    this.#db = db;
    this.#dialects = new Map(providers.map((p) => [p.id, p.dialect]));
    this.#apis = new Map(providers.flatMap((p) => (p.api ? [[p.id, p.api] as const] : [])));
  }

  /** The provider's outbound client, when it has one (reconciliation reads its records through it). */
  apiOf(provider: string): VendorApi | undefined {
    return this.#apis.get(provider);
  }

  providers(): ProviderView[] {
    return [...this.#dialects].map(([id, dialect]) => {
      const api = this.#apis.get(id);
      return { id, dialect, ...(api ? { api: { currency: api.currency, studios: api.studios !== undefined, userInfo: api.user !== undefined } } : {}) };
    });
  }

  /** Registers the player with the provider's vendor, once: a repeat answers the stored registration without a vendor call. */
  async register(player: PlayerCode, provider: string): Promise<VendorsResult<Registration>> {
    const api = this.#api(provider);
    if (!api.ok) return api;
    const wallet = await this.#wallet(player, api.value.currency);
    if (!wallet.ok) return wallet;
    return this.#register(player, provider, api.value, wallet.value.playerId);
  }

  async registrations(player: PlayerCode): Promise<VendorsResult<Registration[]>> {
    const found = await this.#db.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
    if (!found) return refuse('unknown_player', `no player ${JSON.stringify(player)}`);
    const rows = await this.#db
      .selectFrom('provider_users')
      .select(['provider_id', 'user_code', 'created_at'])
      .where('player_id', '=', found.id)
      .orderBy('provider_id')
      .execute();
    return { ok: true, value: rows.map((r) => ({ player, provider: r.provider_id, userCode: r.user_code, registeredAt: r.created_at })) };
  }

  /** The stored registration and the vendor's own record of the user (when the vendor has a user API). */
  async user(player: PlayerCode, provider: string): Promise<VendorsResult<{ registration: Registration; vendor?: Record<string, unknown> }>> {
    const api = this.#api(provider);
    if (!api.ok) return api;
    const all = await this.registrations(player);
    if (!all.ok) return all;
    const registration = all.value.find((r) => r.provider === provider);
    if (!registration) return refuse('not_registered', `${player} is not registered with ${provider}`);
    if (!api.value.user) return { ok: true, value: { registration } };
    const vendor = await api.value.user(registration.userCode);
    if (!vendor.ok) return refuse(vendor.error, vendor.detail);
    return { ok: true, value: { registration, vendor: vendor.value } };
  }

  async studios(provider: string, lang: string): Promise<VendorsResult<Studio[]>> {
    const api = this.#api(provider);
    if (!api.ok) return api;
    if (!api.value.studios) return refuse('not_supported', `${provider}'s vendor has no studio list`);
    const studios = await api.value.studios(lang);
    return studios.ok ? studios : refuse(studios.error, studios.detail);
  }

  /** The provider's games; `currency` is the vendor account's (the one bet limits are in). */
  async games(provider: string, query: { lang: string; studio?: string | undefined }): Promise<VendorsResult<{ currency: Currency; games: Game[] }>> {
    const api = this.#api(provider);
    if (!api.ok) return api;
    const games = await api.value.games({ lang: query.lang, ...(query.studio === undefined ? {} : { studio: query.studio }) });
    return games.ok ? { ok: true, value: { currency: api.value.currency, games: games.value } } : refuse(games.error, games.detail);
  }

  /** A one-time game URL for the player: registers first when needed; a blocked player gets none. */
  async launch(player: PlayerCode, provider: string, options: LaunchOptions): Promise<VendorsResult<Launch>> {
    const api = this.#api(provider);
    if (!api.ok) return api;
    const { currency } = api.value;
    let limits: { min: Minor; max: Minor } | undefined;
    if (options.limits) {
      const min = parseAmount(options.limits.min, currency);
      const max = parseAmount(options.limits.max, currency);
      if (!min.ok || !max.ok) return refuse('invalid_request', `bet limits: ${!min.ok ? min.reason : !max.ok ? max.reason : ''}`);
      limits = { min: min.value, max: max.value };
    }
    const wallet = await this.#wallet(player, currency);
    if (!wallet.ok) return wallet;
    if (wallet.value.status === 'blocked') return refuse('player_blocked', `${player} is blocked: no game is launched for a player who cannot bet`);
    const registration = await this.#register(player, provider, api.value, wallet.value.playerId);
    if (!registration.ok) return registration;
    const launched = await api.value.launch({
      player,
      userCode: registration.value.userCode,
      game: options.game,
      lang: options.lang,
      balance: wallet.value.balance,
      ...(options.studio === undefined ? {} : { studio: options.studio }),
      ...(options.returnUrl === undefined ? {} : { returnUrl: options.returnUrl }),
      ...(limits ? { limits } : {}),
    });
    if (!launched.ok) return refuse(launched.error, launched.detail);
    return { ok: true, value: { url: launched.value.url, registration: registration.value } };
  }

  async #register(player: PlayerCode, provider: string, api: VendorApi, playerId: bigint): Promise<VendorsResult<Registration>> {
    const stored = await this.#stored(playerId, provider);
    if (stored) return { ok: true, value: { player, ...stored }, created: false };
    const registered = await api.register(player);
    if (!registered.ok) return refuse(registered.error, registered.detail);
    const inserted = await this.#db
      .insertInto('provider_users')
      .values({ player_id: playerId, provider_id: provider, user_code: registered.value.userCode })
      .onConflict((c) => c.doNothing())
      .returning(['provider_id', 'user_code', 'created_at'])
      .executeTakeFirst();
    if (inserted) return { ok: true, value: { player, provider, userCode: inserted.user_code, registeredAt: inserted.created_at }, created: true };
    // A concurrent registration of the same player stored it first; otherwise the code is another player's.
    const raced = await this.#stored(playerId, provider);
    if (raced) return { ok: true, value: { player, ...raced }, created: false };
    return refuse('user_code_taken', `${provider} answered user code ${JSON.stringify(registered.value.userCode)}, already registered to another player`);
  }

  async #stored(playerId: bigint, provider: string): Promise<Omit<Registration, 'player'> | undefined> {
    const row = await this.#db
      .selectFrom('provider_users')
      .select(['user_code', 'created_at'])
      .where('player_id', '=', playerId)
      .where('provider_id', '=', provider)
      .executeTakeFirst();
    return row && { provider, userCode: row.user_code, registeredAt: row.created_at };
  }

  #api(provider: string): VendorsResult<VendorApi> {
    const api = this.#apis.get(provider);
    if (api) return { ok: true, value: api };
    if (this.#dialects.has(provider)) return refuse('not_supported', `${provider} has no vendor API configured`);
    return refuse('unknown_provider', `no provider ${JSON.stringify(provider)}`);
  }

  async #wallet(player: PlayerCode, currency: Currency): Promise<VendorsResult<Wallet>> {
    const row = await this.#db
      .selectFrom('players as p')
      .leftJoin('accounts as a', (join) => join.onRef('a.player_id', '=', 'p.id').on('a.kind', '=', 'player').on('a.currency', '=', currency))
      .select(['p.id', 'p.status', 'a.balance'])
      .where('p.code', '=', player)
      .executeTakeFirst();
    if (!row) return refuse('unknown_player', `no player ${JSON.stringify(player)}`);
    if (row.balance === null) return refuse('currency_mismatch', `${player} has no ${currency} wallet, the currency of this vendor account`);
    return { ok: true, value: { playerId: row.id, status: row.status, balance: row.balance } };
  }
}
