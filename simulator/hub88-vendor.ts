import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { Hub88Player, signature, signedBy } from './hub88-player.ts';
import { Journal } from './journal.ts';
import { LinkGone, PlayLinks, tokenOf } from './links.ts';
import { isCurrency, parseUnits } from './money.ts';
import { prng } from './random.ts';
import { describeReport, PLAY_DEFAULTS, type PlayOptions, type SessionReport } from './session.ts';
import { Sessions } from './sessions.ts';
import { count, emptyStats, html, listen, resetStats, type Stats } from './server.ts';

/**
 * A Hub88 account (docs/specs/hub88-dialect.md, "The vendor's own API"): the Games API the casino
 * calls, `POST /operator/generic/v2/game/list` and `/operator/generic/v2/game/url`, each body signed
 * by the casino (X-Hub88-Signature, checked with the casino's public key) and each answer signed by
 * Hub88; and the game sessions a player's opening of the game URL starts, in which Hub88 calls the
 * casino's wallet (hub88-player.ts) signing with its own private key.
 */

export interface Hub88PlayOptions extends PlayOptions {
  rollbackRate: number;
  promoRate: number;
}

export const HUB88_PLAY_DEFAULTS: Hub88PlayOptions = { ...PLAY_DEFAULTS, rollbackRate: 0.08, promoRate: 0.3 };

/** The games this account offers, with their stakes in currency units. */
export const HUB88_GAMES = [
  { game_code: 'clt_dragonrising', name: 'Dragon Rising', category: 'Video Slots', product: 'Crazy Tooth Studio', stakes: ['0.20', '5.00'] },
  { game_code: 'evo_lightningroulette', name: 'Lightning Roulette', category: 'Live Roulette', product: 'Evolution Gaming', stakes: ['1.00', '25.00'] },
  { game_code: 'pgp_aviator', name: 'Sky Pilot', category: 'Crash Games', product: 'PG Play', stakes: ['0.10', '10.00'] },
] as const;

export interface Hub88VendorOptions {
  id: string;
  operatorId: number;
  /** Hub88's private key (PEM): signs its calls to the wallet and its Games API answers. */
  vendorPrivateKey: string;
  /** The casino's public key (PEM), or its private key (the demo has both): checks the casino's requests and answers. */
  casinoKey: string;
  callbackUrl: string | (() => string);
  currencies?: readonly string[];
  host?: string;
  port?: number;
  linkTtlMs?: number;
  play?: Partial<Hub88PlayOptions>;
  journal?: Journal;
  log?: (line: string) => void;
}

export interface Hub88Controls {
  /** The next this-many Games API calls answer HTTP 500. */
  failNext: number;
}

export interface Hub88Vendor {
  readonly id: string;
  readonly dialect: 'hub88';
  readonly url: string;
  readonly controls: Hub88Controls;
  readonly stats: Stats;
  readonly journal: Journal;
  readonly reports: readonly SessionReport[];
  open(url: string, options?: Partial<Hub88PlayOptions>): Promise<SessionReport>;
  idle(): Promise<void>;
  resetStats(): void;
  close(): Promise<void>;
}

interface Link {
  user: string;
  token: string;
  currency: string;
  game: (typeof HUB88_GAMES)[number];
}

const urlBody = z.object({
  user: z.string().min(3).max(100),
  token: z.string().min(10).max(4096),
  platform: z.enum(['GPL_DESKTOP', 'GPL_MOBILE']),
  operator_id: z.number().int(),
  lang: z.string().max(10).optional(),
  lobby_url: z.string().max(255).optional(),
  game_code: z.string().min(1).max(200),
  currency: z.string().max(10),
  country: z.string().max(2).optional(),
  ip: z.string().max(64).optional(),
  sub_partner_id: z.string().max(100).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

const keyOf = (pem: string): KeyObject => (/PRIVATE KEY/.test(pem) ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem));

export async function startHub88Vendor(options: Hub88VendorOptions): Promise<Hub88Vendor> {
  const log = options.log ?? (() => {});
  const journal = options.journal ?? new Journal();
  const defaults: Hub88PlayOptions = { ...HUB88_PLAY_DEFAULTS, ...options.play };
  const vendorKey = createPrivateKey(options.vendorPrivateKey);
  const casinoKey = keyOf(options.casinoKey);
  const currencies = options.currencies ?? ['USD', 'EUR'];
  const controls: Hub88Controls = { failNext: 0 };
  const stats = emptyStats();
  const links = new PlayLinks<Link>(options.linkTtlMs ?? 600_000);
  const sessions = new Sessions(options.id);
  let base = '';

  const play = (link: Link, overrides: Partial<Hub88PlayOptions>): Promise<SessionReport> =>
    sessions.run(async () => {
      const o = { ...defaults, ...overrides };
      const id = sessions.nextId();
      const player = new Hub88Player({
        provider: options.id,
        operatorId: options.operatorId,
        endpoints: [typeof options.callbackUrl === 'function' ? options.callbackUrl() : options.callbackUrl],
        vendorKey,
        casinoKey,
        retryDelayMs: o.retryDelayMs,
        random: o.seed === undefined ? Math.random : prng(o.seed),
        betTimeoutMs: o.betTimeoutMs,
        otherTimeoutMs: o.otherTimeoutMs,
        duplicateRate: o.duplicateRate,
        rollbackRate: o.rollbackRate,
        promoRate: o.promoRate,
        journal,
        session: id,
        signal: sessions.signal,
        log,
      });
      const stakes = [parseUnits(link.game.stakes[0], link.currency)!, parseUnits(link.game.stakes[1], link.currency)!] as const;
      log(`${options.id} session ${id} ${link.user} started: ${link.game.name}, ${o.rounds} rounds`);
      const report = await player.playSession({ id, user: link.user, token: link.token, currency: link.currency, game: link.game.game_code, rounds: o.rounds, stakes, pauseMs: o.pauseMs });
      log(`${options.id} ${describeReport(report)}`);
      return report;
    });

  /** Answers signed by Hub88, as its Games API does. */
  const send = (res: Response, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.status(status).type('application/json').set('x-hub88-signature', signature(text, vendorKey)).send(text);
  };

  const app = express();
  app.disable('x-powered-by');
  const api = (route: string, handle: (body: unknown) => { status: number; body: unknown }) =>
    app.post(route, express.raw({ type: () => true, limit: '64kb' }), (req: Request, res: Response) => {
      count(stats.calls, route);
      if (controls.failNext > 0) {
        controls.failNext--;
        count(stats.answers, '500');
        res.status(500).type('text/plain').send('Internal Server Error');
        return;
      }
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      if (!signedBy(raw, req.get('x-hub88-signature'), casinoKey)) {
        count(stats.answers, '401');
        log(`${options.id} api ${route} -> 401 bad signature`);
        return send(res, 401, { error: 'invalid signature' });
      }
      let body: unknown;
      try {
        // The Games API bodies carry no amounts: JSON.parse reads them exactly.
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { error: 'body is not JSON' });
      }
      const answer = handle(body);
      count(stats.answers, String(answer.status));
      log(`${options.id} api ${route} -> ${answer.status}`);
      send(res, answer.status, answer.body);
    });

  api('/operator/generic/v2/game/list', (body) => {
    if ((body as { operator_id?: unknown } | null)?.operator_id !== options.operatorId) return { status: 403, body: { error: 'unknown operator_id' } };
    return { status: 200, body: HUB88_GAMES.map(({ stakes: _stakes, ...g }) => ({ ...g, enabled: true, platforms: ['GPL_DESKTOP', 'GPL_MOBILE'], freebet_support: true })) };
  });

  api('/operator/generic/v2/game/url', (body) => {
    const parsed = urlBody.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
    const b = parsed.data;
    if (b.operator_id !== options.operatorId) return { status: 403, body: { error: 'unknown operator_id' } };
    if (!isCurrency(b.currency) || !currencies.includes(b.currency)) return { status: 400, body: { error: `currency ${b.currency} is not supported` } };
    const game = HUB88_GAMES.find((g) => g.game_code === b.game_code);
    if (!game) return { status: 404, body: { error: `game ${b.game_code} not found` } };
    const token = links.issue({ user: b.user, token: b.token, currency: b.currency, game });
    return { status: 200, body: { url: `${base}/play/${token}` } };
  });

  app.get('/play/:token', (req: Request<{ token: string }>, res: Response) => {
    count(stats.calls, 'GET /play');
    const redeemed = links.redeem(req.params.token);
    if (!redeemed.ok) {
      res.status(redeemed.reason === 'unknown' ? 404 : 410).type('html').send(html('Game unavailable', 'This game link has expired or was already used.'));
      return;
    }
    const link = redeemed.value;
    play(link, {}).catch((e: unknown) => log(`${options.id} session failed: ${(e as Error).message}`));
    res.status(200).type('html').send(html(link.game.name, `Session started for ${link.user} (${link.currency}).`));
  });

  const listening = await listen(app, options.host ?? '127.0.0.1', options.port ?? 0);
  base = listening.url;

  return {
    id: options.id,
    dialect: 'hub88',
    url: listening.url,
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
