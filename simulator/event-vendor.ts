import { timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { EventPlayer, gameNumbers, transactionIds, type Limits } from './event-player.ts';
import { Journal } from './journal.ts';
import { LinkGone, PlayLinks, tokenOf } from './links.ts';
import { ExactNumber, isCurrency, parseJson, parseUnits, units } from './money.ts';
import { prng } from './random.ts';
import { describeReport, PLAY_DEFAULTS, type PlayOptions, type SessionReport } from './session.ts';
import { Sessions } from './sessions.ts';
import { count, emptyStats, html, listen, resetStats, type Stats } from './server.ts';

/**
 * An event-dialect (DOWINN-style) vendor account: its `POST /game-lobby` that the casino calls
 * (docs/specs/event-dialect.md, "The vendor's own API"), and the table sessions a player's
 * opening of the game URL starts, in which the vendor sends encrypted events to the casino's webhook.
 *
 * The lobby: headers Api-Id and Api-Key, a plain JSON body; always HTTP 200 with
 * `{"code":0,"response_data":{"game_url":...}}` or `{"code":<n>,"message":...}`.
 */

export interface EventPlayOptions extends PlayOptions {
  lineCancelRate: number;
  resultChangeRate: number;
}

export const EVENT_PLAY_DEFAULTS: EventPlayOptions = { ...PLAY_DEFAULTS, lineCancelRate: 0.1, resultChangeRate: 0.05 };

export interface EventVendorOptions {
  /** The casino's id of this account (the path of its webhook URL): "dowinn". */
  id: string;
  /** The agent id (Api-Id header, and the lobby body's agent_id). */
  apiId: string;
  /** 32 UTF-8 bytes: the Api-Key header and the AES-256 key of the events. */
  apiKey: string;
  /** The casino's webhook URL for this account. */
  /** A function when the casino's address is known only after the vendor starts (it is read per session). */
  callbackUrl: string | (() => string);
  /** Currencies the agent may open the lobby in (default USD). */
  currencies?: readonly string[];
  /** The table of a lobby call without table_code. */
  defaultTable?: string;
  host?: string;
  port?: number;
  linkTtlMs?: number;
  play?: Partial<EventPlayOptions>;
  journal?: Journal;
  log?: (line: string) => void;
}

export interface EventControls {
  /** Every answer waits this long. */
  delayMs: number;
  /** The next this-many calls answer HTTP 500. */
  failNext: number;
  /** Users the lobby refuses with 9 (blocked user). */
  blockedUsers: Set<string>;
  /** Every lobby call answers 5 (expired). */
  expired: boolean;
}

interface Link {
  user: string;
  currency: string;
  table: string;
  limits: Limits;
}

export interface EventVendor {
  readonly id: string;
  readonly dialect: 'event';
  readonly url: string;
  readonly apiId: string;
  readonly apiKey: string;
  readonly controls: EventControls;
  readonly stats: Stats;
  readonly journal: Journal;
  readonly reports: readonly SessionReport[];
  /** Redeems the one-time link and plays the table session; resolves with its report. Rejects with LinkGone. */
  open(url: string, options?: Partial<EventPlayOptions>): Promise<SessionReport>;
  idle(): Promise<void>;
  resetStats(): void;
  close(): Promise<void>;
}

const CODES = {
  missingData: [2, 'missing data'],
  invalidKey: [3, 'invalid key'],
  dataFormat: [4, 'data format error'],
  expired: [5, 'expired request'],
  invalidAgent: [6, 'invalid agent'],
  blockedUser: [9, 'blocked user'],
  dataValue: [100, 'data value error'],
  insufficientBalance: [102, 'insufficient balance'],
} as const;
const error = (which: keyof typeof CODES) => ({ code: CODES[which][0], message: CODES[which][1] });

const number = z.instanceof(ExactNumber);
const lobbyBody = z.object({
  user_id: z.string().trim().min(1).max(100),
  agent_id: z.string().max(200),
  balance: number,
  currency: z.string().max(10),
  language: z.string().max(10),
  // Optional in the vendor's guide: a lobby without a table lands on the default one.
  home_url: z.string().max(2000).optional(),
  table_code: z.string().max(50).optional(),
  bet_n_min: number,
  bet_n_max: number,
});

/** Compares a header with a secret in constant time. */
function matches(header: unknown, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startEventVendor(options: EventVendorOptions): Promise<EventVendor> {
  if (Buffer.byteLength(options.apiKey, 'utf8') !== 32) throw new Error(`${options.id}: the API key must be 32 bytes (AES-256)`);
  const log = options.log ?? (() => {});
  const journal = options.journal ?? new Journal();
  const currencies = options.currencies ?? ['USD'];
  const defaults: EventPlayOptions = { ...EVENT_PLAY_DEFAULTS, ...options.play };
  const controls: EventControls = { delayMs: 0, failNext: 0, blockedUsers: new Set(), expired: false };
  const stats = emptyStats();
  const links = new PlayLinks<Link>(options.linkTtlMs ?? 600_000);
  const sessions = new Sessions(options.id);
  const nextTransactionId = transactionIds(options.apiId);
  const nextGame = gameNumbers();
  let base = '';

  type Outcome = { code: 0; response_data: { game_url: string } } | ReturnType<typeof error>;

  const lobby = (req: Request): Outcome => {
    // Who is calling first: an unknown agent, then a wrong key.
    if (!matches(req.headers['api-id'], options.apiId)) return error('invalidAgent');
    if (!matches(req.headers['api-key'], options.apiKey)) return error('invalidKey');
    if (controls.expired) return error('expired');
    let body: unknown;
    try {
      body = parseJson(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
    } catch {
      return error('dataFormat');
    }
    const parsed = lobbyBody.safeParse(body);
    if (!parsed.success) return error('missingData');
    const b = parsed.data;
    if (b.agent_id !== options.apiId) return error('invalidAgent');
    if (controls.blockedUsers.has(b.user_id)) return error('blockedUser');
    if (!isCurrency(b.currency) || !currencies.includes(b.currency)) return error('dataValue');
    const balance = parseUnits(b.balance.text, b.currency);
    const min = parseUnits(b.bet_n_min.text, b.currency);
    const max = parseUnits(b.bet_n_max.text, b.currency);
    if (balance === undefined || min === undefined || max === undefined || balance < 0n || min < 0n || max <= 0n || min > max) return error('dataValue');
    if (balance < min) return error('insufficientBalance');
    const table = b.table_code?.trim() || (options.defaultTable ?? 'BAC01');
    const token = links.issue({ user: b.user_id, currency: b.currency, table, limits: { min, max } });
    return { code: 0, response_data: { game_url: `${base}/play/${token}` } };
  };

  const play = (link: Link, overrides: Partial<EventPlayOptions>): Promise<SessionReport> =>
    sessions.run(async () => {
      const o = { ...defaults, ...overrides };
      const id = sessions.nextId();
      const player = new EventPlayer({
        provider: options.id,
        apiId: options.apiId,
        apiKey: options.apiKey,
        endpoints: [typeof options.callbackUrl === 'function' ? options.callbackUrl() : options.callbackUrl],
        retryDelayMs: o.retryDelayMs,
        random: o.seed === undefined ? Math.random : prng(o.seed),
        betTimeoutMs: o.betTimeoutMs,
        otherTimeoutMs: o.otherTimeoutMs,
        duplicateRate: o.duplicateRate,
        nextTransactionId,
        nextGame,
        lineCancelRate: o.lineCancelRate,
        resultChangeRate: o.resultChangeRate,
        journal,
        session: id,
        signal: sessions.signal,
        log,
      });
      const limits = `${units(link.limits.min, link.currency)}-${units(link.limits.max, link.currency)} ${link.currency}`;
      log(`${options.id} session ${id} ${link.user} started: table ${link.table}, bets ${limits}, ${o.rounds} rounds`);
      const report = await player.playSession(link.user, { id, rounds: o.rounds, currency: link.currency, table: link.table, limits: link.limits, pauseMs: o.pauseMs });
      log(`${options.id} ${describeReport(report)}`);
      return report;
    });

  const app = express();
  app.disable('x-powered-by');

  app.post('/game-lobby', express.raw({ type: () => true, limit: '64kb' }), async (req: Request, res: Response) => {
    const started = performance.now();
    count(stats.calls, '/game-lobby');
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      if (controls.delayMs > 0) await sleep(controls.delayMs);
      if (controls.failNext > 0) {
        controls.failNext--;
        count(stats.answers, '500');
        log(`${options.id} api /game-lobby -> HTTP 500 (control)`);
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      }
      const outcome = lobby(req);
      count(stats.answers, String(outcome.code));
      log(`${options.id} api /game-lobby -> ${outcome.code} ${'message' in outcome ? outcome.message : 'ok'} (${Math.round(performance.now() - started)} ms)`);
      res.status(200).json(outcome);
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
    res.status(200).type('html').send(html(`Table ${link.table}`, `Session started for ${link.user} (${link.currency}).`));
  });

  const listening = await listen(app, options.host ?? '127.0.0.1', options.port ?? 0);
  base = listening.url;

  return {
    id: options.id,
    dialect: 'event',
    url: listening.url,
    apiId: options.apiId,
    apiKey: options.apiKey,
    controls,
    stats,
    journal,
    reports: sessions.reports,
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
