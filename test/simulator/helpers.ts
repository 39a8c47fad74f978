import { sql } from 'kysely';
import { expect } from 'vitest';
import type { CommandVendor } from '../../simulator/command-vendor.ts';
import type { EventVendor } from '../../simulator/event-vendor.ts';
import type { Attempt, Journal } from '../../simulator/journal.ts';
import { parseUnits } from '../../simulator/money.ts';
import type { TestGateway } from '../support/gateway.ts';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mintSessionToken } from '../../providers/hub88/session.ts';
import { Secret } from '../../src/config/secret.ts';
import { signature } from '../../simulator/hub88-player.ts';
import type { Hub88Vendor } from '../../simulator/hub88-vendor.ts';

/**
 * The casino's side of the simulated vendors' APIs (what the gateway's outbound clients do), and
 * the checks that hold a gateway to what the vendors' journal says its answers meant.
 */

export interface ApiReply {
  status: number;
  json: any;
}

/** POSTs to a command-dialect vendor's own API with its bearer token (or `token`). */
export async function api(vendor: CommandVendor, route: string, body: unknown, token: string | null = vendor.apiToken, timeoutMs = 10_000): Promise<ApiReply> {
  const res = await fetch(`${vendor.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** POSTs to an event-dialect vendor's /game-lobby with its Api-Id and Api-Key (or `headers`). */
export async function lobby(vendor: EventVendor, body: unknown, headers?: Record<string, string>): Promise<ApiReply> {
  const res = await fetch(`${vendor.url}/game-lobby`, {
    method: 'POST',
    headers: headers ?? { 'content-type': 'application/json', 'api-id': vendor.apiId, 'api-key': vendor.apiKey },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text };
}

/** A lobby body for `user_id`, with any field replaced (undefined removes it). */
export function lobbyBody(vendor: EventVendor, user_id: string, o: Record<string, unknown> = {}) {
  const body: Record<string, unknown> = {
    user_id,
    agent_id: vendor.apiId,
    balance: 100,
    currency: 'USD',
    language: 'EN',
    home_url: 'https://casino.example/lobby',
    table_code: 'BAC07',
    bet_n_min: 1,
    bet_n_max: 50,
    ...o,
  };
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return body;
}

/** The casino's way to a command-dialect game URL: the user (created or found), the first game of the first studio. */
export async function commandGameUrl(vendor: CommandVendor, name: string, game?: { provider_id: string; game_symbol: string }): Promise<string> {
  const created = await api(vendor, '/v4/user/create', { name });
  expect(created.json).toMatchObject({ code: 0, message: 'OK' });
  let chosen = game;
  if (!chosen) {
    const providers = await api(vendor, '/v4/game/providers', { lang: 'en' });
    const provider_id = providers.json.data[0].provider_id as string;
    const games = await api(vendor, '/v4/game/games', { provider_id, lang: 'en' });
    chosen = { provider_id, game_symbol: games.json.data[0].game_symbol as string };
  }
  const url = await api(vendor, '/v4/game/game-url', { user_code: created.json.data.user_code, ...chosen, lang: 'en', return_url: 'https://casino.example/lobby', win_ratio: 0 });
  expect(url.json).toMatchObject({ code: 0, message: 'OK' });
  return url.json.data.game_url as string;
}

/** The casino's way to an event-dialect game URL. */
export async function eventGameUrl(vendor: EventVendor, user: string, o: Record<string, unknown> = {}): Promise<string> {
  const reply = await lobby(vendor, lobbyBody(vendor, user, o));
  expect(reply.json.code).toBe(0);
  return reply.json.response_data.game_url as string;
}

/** The demo hub88 instance's `$demo` options of config/providers.json: the casino's key and the session token secret. */
function hub88Demo(): { casinoKey: string; tokenSecret: string; operatorId: number; currency: string } {
  const file = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../config/providers.json'), 'utf8')) as { providers: { id: string; options: Record<string, any> }[] };
  const o = file.providers.find((p) => p.id === 'hub88')!.options;
  return { casinoKey: o.casinoPrivateKey.$demo, tokenSecret: o.tokenSecret.$demo, operatorId: o.operatorId, currency: o.currency };
}

/** The casino's way to a Hub88 game URL: its session token, and the Games API call signed with its key. */
export async function hub88GameUrl(vendor: Hub88Vendor, user: string, game = 'clt_dragonrising'): Promise<string> {
  const demo = hub88Demo();
  const token = await mintSessionToken({ instance: vendor.id, tokenSecret: new Secret(demo.tokenSecret) }, user, demo.currency);
  const body = JSON.stringify({ user, token, platform: 'GPL_DESKTOP', operator_id: demo.operatorId, lang: 'en', game_code: game, currency: demo.currency });
  const res = await fetch(`${vendor.url}/operator/generic/v2/game/url`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub88-signature': signature(body, createPrivateKey(demo.casinoKey)) },
    body,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

/** Every wallet's balance: player -> currency -> minor units. */
export async function walletBalances(gw: TestGateway): Promise<Map<string, Map<string, bigint>>> {
  const { rows } = await sql<{ code: string; currency: string; balance: string }>`
    select p.code, a.currency, a.balance::text as balance from players p join accounts a on a.player_id = p.id and a.kind = 'player'`.execute(gw.database.db);
  const wallets = new Map<string, Map<string, bigint>>();
  for (const r of rows) wallets.set(r.code, (wallets.get(r.code) ?? new Map()).set(r.currency, BigInt(r.balance)));
  return wallets;
}

/** Funds each player with these decimal amounts per currency; returns the funding in minor units (added to `into`). */
export async function fundAll(
  gw: TestGateway,
  players: readonly string[],
  wallets: Record<string, string>,
  into = new Map<string, Map<string, bigint>>(),
): Promise<Map<string, Map<string, bigint>>> {
  const funding = into;
  for (const player of players) {
    await gw.fund(player, wallets);
    funding.set(player, new Map(Object.entries(wallets).map(([currency, text]) => [currency, parseUnits(text, currency)!])));
  }
  return funding;
}

/**
 * Waits until the gateway has finished with everything the vendors sent: no parked work left, and
 * the webhook history no longer grows (a call the vendor stopped waiting for may still be running).
 */
export async function quiesce(gw: TestGateway, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let steady = 0;
  while (Date.now() < deadline) {
    const depth = await gw.gateway.parking.depth();
    // The maintenance queue always holds its repeatable upkeep job: only parked retries and history count.
    const queued = (['retries', 'history'] as const).reduce((n, name) => n + (depth[name]?.waiting ?? 0) + (depth[name]?.active ?? 0) + (depth[name]?.delayed ?? 0), 0);
    const { rows } = await sql<{ n: number; parked: number }>`
      select count(*)::int as n, count(*) filter (where outcome = 'parked' and resolved_at is null)::int as parked from webhooks`.execute(gw.database.db);
    const { n, parked } = rows[0]!;
    steady = n === last && queued === 0 && parked === 0 ? steady + 1 : 0;
    if (steady >= 3) return;
    last = n;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`the gateway did not settle within ${timeoutMs} ms`);
}

/** Every player's balance in every funded currency equals its funding plus the journal's expected change. */
export async function expectBalancesMatchJournal(gw: TestGateway, journal: Journal, funding: Map<string, Map<string, bigint>>): Promise<number> {
  const wallets = await walletBalances(gw);
  const wrong: string[] = [];
  let checked = 0;
  for (const [player, currencies] of funding) {
    for (const [currency, funded] of currencies) {
      checked++;
      const expected = funded + journal.expectedChange(player, currency);
      const actual = wallets.get(player)?.get(currency);
      if (actual !== expected) wrong.push(`${player} ${currency}: gateway ${actual}, vendors expect ${expected} (funded ${funded})`);
    }
  }
  // And the vendors moved no wallet the test did not fund.
  for (const { player, currency, change } of journal.expectations()) {
    if (change !== 0n && !funding.get(player)?.has(currency)) wrong.push(`${player} ${currency}: moved by ${change} but never funded`);
  }
  expect(wrong).toEqual([]);
  return checked;
}

interface TxRow {
  provider_id: string;
  external_id: string;
  kind: string;
  status: string;
  amount: string;
  player: string;
  transfer_amount: string | null;
}

/**
 * No success answer without its ledger effect: each bet, win, result, result change answered
 * success is one applied provider transaction of its kind and amount for that player; each cancel
 * answered success has its rollback (command) or refund (event) record; each login/logout its session row.
 */
export async function expectSuccessesInLedger(gw: TestGateway, journal: Journal): Promise<number> {
  const db = gw.database.db;
  const txs = await sql<TxRow>`
    select pt.provider_id, pt.external_id, pt.kind, pt.status, pt.amount::text as amount, p.code as player, t.amount::text as transfer_amount
    from provider_transactions pt join players p on p.id = pt.player_id left join transfers t on t.id = pt.transfer_id`.execute(db);
  const tx = new Map(txs.rows.map((r) => [`${r.provider_id}/${r.external_id}`, r]));
  const rollbacks = await sql<{ provider_id: string; target_external_id: string; external_id: string | null; player: string }>`
    select r.provider_id, r.target_external_id, r.external_id, p.code as player from rollbacks r join players p on p.id = r.player_id`.execute(db);
  const rollback = new Map(rollbacks.rows.map((r) => [`${r.provider_id}/${r.target_external_id}`, r]));
  // A dialect that gives a rollback its own id (Hub88's transaction_uuid): found by that id too.
  const ownRollback = new Map(rollbacks.rows.filter((r) => r.external_id !== null).map((r) => [`${r.provider_id}/${r.external_id}`, r]));
  const sessions = await sql<{ provider_id: string; external_id: string; kind: string; player: string }>`
    select s.provider_id, s.external_id, s.kind, p.code as player from player_sessions s join players p on p.id = s.player_id`.execute(db);
  const session = new Map(sessions.rows.map((r) => [`${r.provider_id}/${r.external_id}`, r]));

  const problems: string[] = [];
  const kinds: Record<string, string> = { bet: 'debit', win: 'credit', promo_win: 'credit', bet_result: 'credit', result_change: 'adjust', bet_cancel: 'refund' };
  let checked = 0;
  for (const a of journal.successes()) {
    const id = `${a.provider}/${a.transId}`;
    const where = `${a.provider} ${a.call} ${a.transId} of ${a.player} answered ${String(a.reply)}`;
    checked++;
    if (a.call === 'authenticate' || a.call === 'balance') continue;
    if (a.call === 'login' || a.call === 'logout') {
      const row = session.get(id);
      if (row?.kind !== a.call || row.player !== a.player) problems.push(`${where}: session row ${JSON.stringify(row)}`);
      continue;
    }
    if (a.call === 'cancel') {
      if (rollback.get(id)?.player !== a.player) problems.push(`${where}: no rollback of it`);
      continue;
    }
    if (a.call === 'rollback') {
      if (ownRollback.get(id)?.player !== a.player) problems.push(`${where}: no rollback with this id`);
      continue;
    }
    const row = tx.get(id);
    if (!row || row.kind !== kinds[a.call] || row.player !== a.player || row.amount !== String(a.amount)) {
      problems.push(`${where}: ledger has ${JSON.stringify(row)}`);
    } else if (a.call === 'bet_cancel') {
      // A cancel of lines never placed answers R0 too (remembered, nothing refunded); a refund never exceeds the lines.
      if (row.status === 'applied' && BigInt(row.transfer_amount ?? '0') > (a.amount ?? 0n)) problems.push(`${where}: refunded ${row.transfer_amount}`);
    } else if (row.status !== 'applied') {
      problems.push(`${where}: ${row.status}`);
    } else if (a.call !== 'result_change' && row.transfer_amount !== String(a.amount)) {
      problems.push(`${where}: transfer of ${row.transfer_amount}`);
    }
  }
  expect(problems).toEqual([]);
  return checked;
}

/** Attempts per call and answer, for a test's report. */
export function tally(attempts: readonly Attempt[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of attempts) out[`${a.call}:${String(a.reply)}`] = (out[`${a.call}:${String(a.reply)}`] ?? 0) + 1;
  return out;
}
