import { setTimeout as sleep } from 'node:timers/promises';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { STUDIOS, type CatalogueGame, type Studio } from './catalogue.ts';
import { CommandPlayer, transIds } from './command-player.ts';
import { Journal, type Operation } from './journal.ts';
import { LinkGone, PlayLinks, tokenOf } from './links.ts';
import { ExactNumber, exponentOf, jsonUnits, parseJson, units } from './money.ts';
import { prng } from './random.ts';
import { describeReport, PLAY_DEFAULTS, type PlayOptions, type SessionReport } from './session.ts';
import { Sessions } from './sessions.ts';
import { count, emptyStats, html, listen, resetStats, type Stats } from './server.ts';

/**
 * A command-dialect vendor account (Scorpio Play, SlotCity, MegaNodes): the vendor's own API that
 * the casino calls (docs/specs/command-dialect.md, "The vendor's own API"), and the game
 * sessions a player's opening of a game URL starts, in which the vendor calls the casino's wallet.
 *
 * The API: POST, JSON, `Authorization: Bearer <apiToken>` (else HTTP 401
 * `{"code":401,"message":"UNAUTHORIZED"}`); every other answer is HTTP 200
 * `{"code":<n>,"message":"<TEXT>","data":...}` (`data` is null on errors). More than
 * `concurrencyLimit` calls in flight at once answer 1018. Test controls and stats live on the handle.
 */

export interface CommandPlayOptions extends PlayOptions {
  /** Stakes in minor units (default: 0.10-5.00 in a two-decimal currency, 100-5000 in a zero-decimal one). */
  stake?: readonly [bigint, bigint];
  lossRate: number;
  voidRate: number;
  winCancelRate: number;
}

export const COMMAND_PLAY_DEFAULTS: CommandPlayOptions = { ...PLAY_DEFAULTS, lossRate: 0.5, voidRate: 0.05, winCancelRate: 0.05 };

export interface CommandVendorOptions {
  /** The casino's id of this account (the path of its callback URL): "scorpio-play". */
  id: string;
  /** One account is one currency. */
  currency: string;
  /** The bearer token the casino uses on this API. */
  apiToken: string;
  /** The casino's callback URL for this account. */
  /** A function when the casino's address is known only after the vendor starts (it is read per session). */
  callbackUrl: string | (() => string);
  callbackToken: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  studios?: readonly Studio[];
  /** The agent's RTP in percent; a game URL's win_ratio may ask for less. */
  rtp?: number;
  /** How long a game URL stays valid (10 minutes). */
  linkTtlMs?: number;
  /** Calls in flight past this answer 1018 SERVER_IS_BUSY (50). */
  concurrencyLimit?: number;
  /** Defaults of the sessions this vendor plays. */
  play?: Partial<CommandPlayOptions>;
  journal?: Journal;
  /** One line per API call received and per session event. */
  log?: (line: string) => void;
}

/** Test controls: plain fields, read on every call. */
export interface CommandControls {
  /** Every call answers 1 UNDER_MAINTENANCE. */
  maintenance: boolean;
  /** Every call answers 1020 IP_NOT_ALLOWED. */
  ipBlocked: boolean;
  /** Every answer waits this long (to provoke the client's timeouts). */
  delayMs: number;
  /** The next this-many calls answer HTTP 500. */
  failNext: number;
  /** A currency the vendor does not support: with the account's, user/create and game-url answer 2014. */
  refusedCurrency: string | undefined;
  concurrencyLimit: number;
  /**
   * What the vendor's transaction list (/v4/game/transaction) gets wrong, to show reconciliation
   * finding it: rows it loses, amounts it alters (minor units), and rows it lists that the casino was
   * never sent (a win whose callback was lost).
   */
  records: { lose: Set<string>; alter: Map<string, bigint>; invent: { trans_id: string; user_code: string; round_id: string; trans_type: 1 | 2 | 16; amount: bigint }[] };
}

export interface User {
  user_code: string;
  name: string;
  currency: string;
  created_at: string;
}

/** A row of the vendor's own transaction list (what its casino acknowledged). */
interface Row {
  trans_id: string;
  user_code: string;
  round_id: string;
  trans_type: 1 | 2 | 16;
  studio: Studio;
  game: CatalogueGame;
  prebalance?: bigint;
  trans_amount: bigint;
  balance?: bigint;
  at: Date;
}

interface Link {
  user: User;
  studio: Studio;
  game: CatalogueGame;
  rtp: number;
}

export interface CommandVendor {
  readonly id: string;
  readonly dialect: 'command';
  /** Base URL of the API (and of the game URLs). */
  readonly url: string;
  readonly currency: string;
  readonly apiToken: string;
  readonly controls: CommandControls;
  readonly stats: Stats;
  readonly journal: Journal;
  /** Reports of the sessions that ended, in the order they ended. */
  readonly reports: readonly SessionReport[];
  users(): User[];
  /**
   * What a player's browser opening the game URL does, without HTTP: redeems the one-time link and
   * plays the session; resolves with its report when it ends. Rejects with LinkGone for a used,
   * expired or unknown link.
   */
  open(url: string, options?: Partial<CommandPlayOptions>): Promise<SessionReport>;
  /** Resolves once no session is running. */
  idle(): Promise<void>;
  resetStats(): void;
  /** Stops the sessions (calls in flight are cut) and the server. */
  close(): Promise<void>;
}

const ok = (data: unknown) => ({ code: 0, message: 'OK', data });
const CODES = {
  maintenance: [1, 'UNDER_MAINTENANCE'],
  validation: [1002, 'VALIDATION_ERROR'],
  busy: [1018, 'SERVER_IS_BUSY'],
  ipNotAllowed: [1020, 'IP_NOT_ALLOWED'],
  userNotFound: [2002, 'USER_NOT_FOUND'],
  gameNotFound: [2003, 'GAME_NOT_FOUND'],
  roundNotFound: [2013, 'ROUND_NOT_FOUND'],
  currencyNotSupported: [2014, 'CURRENCY_NOT_SUPPORTED'],
} as const;
const error = (which: keyof typeof CODES) => ({ code: CODES[which][0], message: CODES[which][1], data: null });
type Answer = ReturnType<typeof ok> | ReturnType<typeof error>;

// Request bodies: numbers arrive as ExactNumber (parseJson), never as floats.
const text = z.string().max(200);
const integer = z.instanceof(ExactNumber).refine((n) => /^\d{1,9}$/.test(n.text)).transform((n) => Number(n.text));
/** A transaction id: an integer kept as its digits (it may not fit a double). */
const transId = z.instanceof(ExactNumber).refine((n) => /^\d{1,19}$/.test(n.text)).transform((n) => n.text.replace(/^0+(?=\d)/, ''));
const lang = z.union([text, integer]);
const BODIES = {
  '/v4/user/create': z.object({ name: z.string().regex(/^[A-Za-z0-9_]{2,50}$/) }),
  '/v4/user/info': z.object({ user_code: text }),
  '/v4/game/providers': z.object({ lang }),
  '/v4/game/games': z.object({ provider_id: text, lang }),
  '/v4/game/game-url': z.object({
    user_code: text,
    provider_id: text,
    game_symbol: text,
    lang,
    return_url: z.string().max(2000),
    win_ratio: z.instanceof(ExactNumber).transform((n) => Number(n.text)).pipe(z.number().min(0).max(100)),
  }),
  '/v4/game/transaction': z.object({ start_time: text, end_time: text, offset: integer, limit: integer.pipe(z.number().min(1).max(2000)) }),
  '/v4/game/transaction-id': z.object({ last_id: transId, limit: integer.pipe(z.number().min(1).max(2000)) }),
  '/v4/game/round-details': z.object({ user_code: text, round_id: text, provider_id: text, game_code: text }),
} as const;
type Route = keyof typeof BODIES;
const isRoute = (path: string): path is Route => Object.hasOwn(BODIES, path);

/** The vendor's times: 'yyyy-MM-dd HH:mm:ss' in Korea time (UTC+9), as its transaction API speaks them. */
const KST_MS = 9 * 3_600_000;
const kst = (date: Date) => new Date(date.getTime() + KST_MS).toISOString().replace('T', ' ').slice(0, 19);
function parseKst(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms - KST_MS;
}

/** Stakes a player of this currency might place: 0.10-5.00 with cents, 100-5000 without. */
export function defaultStake(currency: string): readonly [bigint, bigint] {
  const e = exponentOf(currency);
  const min = e === 0 ? 100n : 10n ** BigInt(e - 1);
  return [min, min * 50n];
}

export async function startCommandVendor(options: CommandVendorOptions): Promise<CommandVendor> {
  const log = options.log ?? (() => {});
  const journal = options.journal ?? new Journal();
  const studios = options.studios ?? STUDIOS;
  const agentRtp = options.rtp ?? 96;
  const defaults: CommandPlayOptions = { ...COMMAND_PLAY_DEFAULTS, stake: defaultStake(options.currency), ...options.play };
  const controls: CommandControls = {
    maintenance: false,
    ipBlocked: false,
    delayMs: 0,
    failNext: 0,
    refusedCurrency: undefined,
    concurrencyLimit: options.concurrencyLimit ?? 50,
    records: { lose: new Set(), alter: new Map(), invent: [] },
  };
  const stats = emptyStats();
  const links = new PlayLinks<Link>(options.linkTtlMs ?? 600_000);
  const sessions = new Sessions(options.id);
  const nextTransId = transIds();
  const usersByName = new Map<string, User>();
  const usersByCode = new Map<string, User>();
  const rows: Row[] = [];
  let base = '';

  const findGame = (providerId: string, symbol: string) => {
    const studio = studios.find((s) => s.provider_id === providerId);
    const game = studio?.games.find((g) => g.game_symbol === symbol);
    return studio && game ? { studio, game } : undefined;
  };
  const refusesCurrency = () => controls.refusedCurrency === options.currency;

  /** The vendor's own transaction list: what the casino acknowledged (or what the vendor counts on it applying). */
  const keep = (link: Link) => (op: Operation) => {
    if (op.final !== 'ok' && op.final !== 'gave_up') return;
    if (op.call !== 'bet' && op.call !== 'win' && op.call !== 'cancel') return;
    // Nothing moved: a cancel of a bet the casino never took.
    if (op.amount === undefined || (op.effect === 0n && op.call === 'cancel')) return;
    const row: Row = {
      // A cancel names its target's trans_id; in the vendor's list it is a transaction of its own.
      trans_id: op.call === 'cancel' ? nextTransId() : op.transId,
      user_code: link.user.user_code,
      round_id: op.round ?? '',
      trans_type: op.call === 'bet' ? 1 : op.call === 'win' ? 2 : 16,
      studio: link.studio,
      game: link.game,
      trans_amount: op.amount,
      at: new Date(),
      ...(op.balance === undefined ? {} : { balance: op.balance, prebalance: op.balance - op.effect }),
    };
    rows.push(row);
  };
  const rowJson = (r: Row) => ({
    trans_id: JSON.rawJSON(r.trans_id),
    user_code: r.user_code,
    round_id: r.round_id,
    trans_type: r.trans_type,
    provider_id: r.studio.provider_id,
    provider_name: r.studio.name,
    game_code: r.game.game_symbol,
    game_name: r.game.game_name,
    category: r.game.game_type,
    prebalance: r.prebalance === undefined ? null : jsonUnits(r.prebalance, options.currency),
    trans_amount: jsonUnits(r.trans_amount, options.currency),
    balance: r.balance === undefined ? null : jsonUnits(r.balance, options.currency),
    regdate: kst(r.at),
  });

  const handlers: { [R in Route]: (body: z.infer<(typeof BODIES)[R]>) => Answer } = {
    '/v4/user/create': ({ name }) => {
      if (refusesCurrency()) return error('currencyNotSupported');
      let user = usersByName.get(name);
      if (!user) {
        user = { user_code: `u${usersByName.size + 1}`, name, currency: options.currency, created_at: new Date().toISOString() };
        usersByName.set(name, user);
        usersByCode.set(user.user_code, user);
      }
      return ok({ user_code: user.user_code });
    },
    '/v4/user/info': ({ user_code }) => {
      const user = usersByCode.get(user_code);
      return user ? ok({ ...user }) : error('userNotFound');
    },
    '/v4/game/providers': () => ok(studios.map((s) => ({ provider_id: s.provider_id, name: s.name }))),
    '/v4/game/games': ({ provider_id }) => {
      const studio = studios.find((s) => s.provider_id === provider_id);
      return studio ? ok(studio.games.map((g) => ({ ...g, provider_id }))) : error('validation');
    },
    '/v4/game/game-url': (b) => {
      const user = usersByCode.get(b.user_code);
      if (!user) return error('userNotFound');
      const found = findGame(b.provider_id, b.game_symbol);
      if (!found) return error('gameNotFound');
      if (refusesCurrency()) return error('currencyNotSupported');
      // win_ratio: a user-specific RTP no higher than the agent's; 0 means the agent's.
      if (b.win_ratio > agentRtp) return error('validation');
      const token = links.issue({ user, ...found, rtp: b.win_ratio === 0 ? agentRtp : b.win_ratio });
      return ok({ game_url: `${base}/play/${token}` });
    },
    '/v4/game/transaction': (b) => {
      const start = parseKst(b.start_time);
      const end = parseKst(b.end_time);
      if (start === undefined || end === undefined || end <= start || end - start > 3_600_000) return error('validation');
      const invented = controls.records.invent.map((r): Row => ({ trans_id: r.trans_id, user_code: r.user_code, round_id: r.round_id, trans_type: r.trans_type, studio: studios[0]!, game: studios[0]!.games[0]!, trans_amount: r.amount, at: new Date() }));
      const listed = [...rows, ...invented]
        .filter((r) => !controls.records.lose.has(r.trans_id))
        .map((r) => (controls.records.alter.has(r.trans_id) ? { ...r, trans_amount: controls.records.alter.get(r.trans_id)! } : r));
      const within = listed.filter((r) => r.at.getTime() >= start && r.at.getTime() < end);
      const list = within.slice(b.offset, b.offset + b.limit).map(rowJson);
      return ok({ total: within.length, offset: b.offset, count: list.length, list });
    },
    '/v4/game/transaction-id': (b) => {
      // The rows after the one named last_id, in the order the vendor recorded them (0: from the first).
      const from = b.last_id === '0' ? 0 : rows.findIndex((r) => r.trans_id === b.last_id) + 1;
      if (from === 0 && b.last_id !== '0') return error('validation');
      return ok(rows.slice(from, from + b.limit).map(rowJson));
    },
    '/v4/game/round-details': (b) => {
      if (!usersByCode.has(b.user_code)) return error('userNotFound');
      const found = rows.some((r) => r.user_code === b.user_code && r.round_id === b.round_id && r.studio.provider_id === b.provider_id && r.game.game_symbol === b.game_code);
      return found ? ok({ url: `${base}/rounds/${encodeURIComponent(b.round_id)}` }) : error('roundNotFound');
    },
  };

  const play = (link: Link, overrides: Partial<CommandPlayOptions>): Promise<SessionReport> =>
    sessions.run(async () => {
      const o = { ...defaults, ...overrides };
      const id = sessions.nextId();
      const player = new CommandPlayer({
        provider: options.id,
        token: options.callbackToken,
        endpoints: [typeof options.callbackUrl === 'function' ? options.callbackUrl() : options.callbackUrl],
        currency: options.currency,
        game: { provider_id: link.studio.provider_id, game_code: link.game.game_symbol, game_name: link.game.game_name, game_type: link.game.game_type },
        retryDelayMs: o.retryDelayMs,
        random: o.seed === undefined ? Math.random : prng(o.seed),
        betTimeoutMs: o.betTimeoutMs,
        otherTimeoutMs: o.otherTimeoutMs,
        duplicateRate: o.duplicateRate,
        nextTransId,
        stake: o.stake ?? defaultStake(options.currency),
        rtp: link.rtp,
        lossRate: o.lossRate,
        voidRate: o.voidRate,
        winCancelRate: o.winCancelRate,
        journal,
        session: id,
        signal: sessions.signal,
        log,
        onOperation: keep(link),
      });
      log(`${options.id} session ${id} ${link.user.name} started: ${link.game.game_name} (${link.studio.name}), ${o.rounds} rounds, RTP ${link.rtp}%`);
      const report = await player.playSession(link.user.name, { id, rounds: o.rounds, rtp: link.rtp, pauseMs: o.pauseMs });
      log(`${options.id} ${describeReport(report)}`);
      return report;
    });

  const app = express();
  app.disable('x-powered-by');
  const readBody = express.raw({ type: () => true, limit: '64kb' });

  app.post('/v4/*path', readBody, async (req: Request, res: Response) => {
    const started = performance.now();
    const route = req.path;
    count(stats.calls, route);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    // Decided on arrival: a call is refused when it finds the account's limit already in flight.
    const busy = stats.inFlight > controls.concurrencyLimit;
    const reply = (status: number, body: { code: number; message: string }) => {
      count(stats.answers, String(status === 200 ? body.code : status));
      log(`${options.id} api ${route} -> ${status === 200 ? '' : `HTTP ${status} `}${body.code} ${body.message} (${Math.round(performance.now() - started)} ms)`);
      res.status(status).json(body);
    };
    try {
      if (controls.delayMs > 0) await sleep(controls.delayMs);
      if (controls.failNext > 0) {
        controls.failNext--;
        count(stats.answers, '500');
        log(`${options.id} api ${route} -> HTTP 500 (control)`);
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      }
      if (req.headers.authorization !== `Bearer ${options.apiToken}`) return reply(401, { code: 401, message: 'UNAUTHORIZED' });
      if (busy) return reply(200, error('busy'));
      if (controls.ipBlocked) return reply(200, error('ipNotAllowed'));
      if (controls.maintenance) return reply(200, error('maintenance'));
      if (!isRoute(route)) return reply(404, { code: 404, message: 'NOT_FOUND' });
      let body: unknown;
      try {
        body = parseJson(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
      } catch {
        return reply(200, error('validation'));
      }
      const parsed = BODIES[route].safeParse(body);
      if (!parsed.success) return reply(200, error('validation'));
      reply(200, (handlers[route] as (b: unknown) => Answer)(parsed.data));
    } finally {
      stats.inFlight--;
    }
  });

  app.get('/play/:token', (req: Request<{ token: string }>, res: Response) => {
    count(stats.calls, 'GET /play');
    const redeemed = links.redeem(req.params.token);
    if (!redeemed.ok) {
      const status = redeemed.reason === 'unknown' ? 404 : 410;
      log(`${options.id} play link ${redeemed.reason} -> HTTP ${status}`);
      res.status(status).type('html').send(html('Game unavailable', redeemed.reason === 'unknown' ? 'This game link does not exist.' : 'This game link has expired or was already used.'));
      return;
    }
    const link = redeemed.value;
    play(link, {}).catch((e: unknown) => log(`${options.id} session failed: ${(e as Error).message}`));
    res.status(200).type('html').send(html(link.game.game_name, `${link.studio.name}: session started for ${link.user.name} (${options.currency}).`));
  });

  app.get('/rounds/:round', (req: Request<{ round: string }>, res: Response) => {
    const mine = rows.filter((r) => r.round_id === req.params.round);
    if (!mine.length) {
      res.status(404).type('html').send(html('Round not found', req.params.round));
      return;
    }
    const lines = mine.map((r) => `#${r.trans_id} type ${r.trans_type} ${units(r.trans_amount, options.currency)} ${options.currency} at ${kst(r.at)} KST`);
    res.status(200).type('html').send(html(`Round ${req.params.round}`, lines.join(' | ')));
  });

  const listening = await listen(app, options.host ?? '127.0.0.1', options.port ?? 0);
  base = listening.url;

  return {
    id: options.id,
    dialect: 'command',
    url: listening.url,
    currency: options.currency,
    apiToken: options.apiToken,
    controls,
    stats,
    journal,
    reports: sessions.reports,
    users: () => [...usersByName.values()],
    async open(url, overrides = {}) {
      const redeemed = links.redeem(tokenOf(url));
      if (!redeemed.ok) throw new LinkGone(redeemed.reason);
      return play(redeemed.value, overrides);
    },
    idle: () => sessions.idle(),
    resetStats: () => resetStats(stats),
    async close() {
      await sessions.stop();
      await listening.close();
    },
  };
}
