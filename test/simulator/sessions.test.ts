import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandVendor } from '../../simulator/command-vendor.ts';
import { EPHEMERAL_PORTS, startVendors, type CommandVendorId, type Vendors } from '../../simulator/demo.ts';
import type { SessionReport } from '../../simulator/session.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  api,
  commandGameUrl,
  eventGameUrl,
  expectBalancesMatchJournal,
  expectSuccessesInLedger,
  fundAll,
  hub88GameUrl,
  quiesce,
  tally,
  walletBalances,
} from './helpers.ts';

/**
 * Whole sessions of every demo provider (three command-dialect accounts in USD, EUR and KRW, the
 * DOWINN-style event-dialect account and the signed Hub88 account) played by the simulated vendors against a real gateway, all at
 * once and on the same players, with duplicate deliveries and the vendors' retries (their delays
 * scaled down). Afterwards the ledger reconciles and every wallet is where the vendors' answers say
 * it must be.
 */

const COMMAND: readonly CommandVendorId[] = ['scorpio-play', 'slotcity', 'meganodes'];
const PLAYERS = ['sim_ann', 'sim_ben', 'sim_cat', 'sim_dan'];
const ROUNDS = 8;

let gw: TestGateway;
let vendors: Vendors;

beforeAll(async () => {
  gw = await startTestGateway();
  vendors = await startVendors({
    gatewayUrl: gw.url,
    ports: EPHEMERAL_PORTS,
    play: { rounds: ROUNDS, retryDelayMs: [20, 60], duplicateRate: 0.2 },
  });
});
afterAll(async () => {
  await vendors?.close();
  await gw?.close();
});

describe('every demo provider against the gateway', () => {
  it('concurrent sessions with duplicates and cancels: reconcile is clean, every balance is the funding plus what the vendors expect', async () => {
    const funding = await fundAll(gw, PLAYERS, { USD: '300.00', EUR: '300.00', KRW: '300000' });
    const sessions: Promise<SessionReport>[] = [];
    let seed = 1;
    for (const id of COMMAND) {
      const vendor = vendors[id];
      const providers = (await api(vendor, '/v4/game/providers', { lang: 'en' })).json.data as { provider_id: string }[];
      for (const [i, player] of PLAYERS.entries()) {
        const provider_id = providers[i % providers.length]!.provider_id;
        const games = (await api(vendor, '/v4/game/games', { provider_id, lang: 'en' })).json.data as { game_symbol: string }[];
        const url = await commandGameUrl(vendor, player, { provider_id, game_symbol: games[0]!.game_symbol });
        if (i === 0) {
          // As a player's browser does: the session runs in the background.
          const res = await fetch(url);
          expect(res.status).toBe(200);
          await res.text();
        } else {
          sessions.push(vendor.open(url, { seed: seed++, voidRate: 0.2, winCancelRate: 0.2 }));
        }
      }
    }
    for (const player of PLAYERS) {
      const url = await eventGameUrl(vendors.dowinn, player, { balance: 300, bet_n_min: 1, bet_n_max: 25, table_code: 'BAC07' });
      sessions.push(vendors.dowinn.open(url, { seed: seed++, lineCancelRate: 0.3, resultChangeRate: 0.3 }));
    }
    for (const player of PLAYERS) {
      const url = await hub88GameUrl(vendors.hub88, player);
      sessions.push(vendors.hub88.open(url, { seed: seed++, rollbackRate: 0.2, promoRate: 0.5 }));
    }
    await Promise.all(sessions);
    await vendors.idle();
    await quiesce(gw);

    const journal = vendors.journal;
    const reports = vendors.list.flatMap((v) => v.reports);
    expect(reports).toHaveLength(PLAYERS.length * vendors.list.length);
    expect(reports.filter((r) => r.ended !== 'completed' || r.rounds !== ROUNDS).map((r) => `${r.id} ${r.player}: ${r.ended} after ${r.rounds}`)).toEqual([]);
    expect(journal.problems).toEqual([]);

    expect(await gw.reconcile()).toEqual([]);
    const wallets = await expectBalancesMatchJournal(gw, journal, funding);
    const successes = await expectSuccessesInLedger(gw, journal);
    expect(wallets).toBe(PLAYERS.length * 3);

    // Each report's change is its share of the journal; together they are the journal.
    for (const { player, currency, change } of journal.expectations()) {
      const fromReports = reports.filter((r) => r.player === player && r.currency === currency).reduce((sum, r) => sum + r.change, 0n);
      expect(fromReports, `${player} ${currency}`).toBe(change);
    }
    // The last balance a session was told is a real balance of that wallet at some point; for the
    // wallets only one vendor played (KRW), it is the final balance.
    const final = await walletBalances(gw);
    const vendorsOf = (currency: string) => new Set(reports.filter((r) => r.currency === currency).map((r) => r.provider)).size;
    const solo = reports.filter((r) => vendorsOf(r.currency) === 1);
    expect(solo.length).toBeGreaterThan(0);
    for (const r of solo) expect(r.balance, r.id).toBe(final.get(r.player)!.get(r.currency));

    // What was exercised: every call of both dialects, duplicates at every vendor, cancels of every kind.
    const calls = tally(journal.attempts);
    const seen = new Set(journal.attempts.map((a) => a.call));
    for (const call of ['authenticate', 'balance', 'bet', 'win', 'cancel', 'login', 'bet', 'bet_cancel', 'bet_result', 'result_change', 'logout', 'rollback', 'promo_win']) expect(seen, call).toContain(call);
    for (const v of vendors.list) expect(journal.attempts.some((a) => a.provider === v.id && a.copy === 1), `${v.id} duplicates`).toBe(true);
    const cancelled = journal.operations.filter((op) => op.call === 'cancel' && op.final === 'ok');
    expect(cancelled.some((op) => op.effect > 0n)).toBe(true); // a voided bet refunded
    expect(cancelled.some((op) => op.effect < 0n)).toBe(true); // a paid win taken back
    expect(journal.unconfirmed()).toEqual([]);

    console.log(JSON.stringify({ sessions: reports.length, attempts: journal.attempts.length, operations: journal.operations.length, successes, calls }, null, 1));
  });

  it("the vendor's own transaction list holds what the casino acknowledged, and pages by last_id", async () => {
    const vendor: CommandVendor = vendors['scorpio-play'];
    const all = await api(vendor, '/v4/game/transaction-id', { last_id: 0, limit: 2000 });
    expect(all.json.code).toBe(0);
    const rows = all.json.data as { trans_id: number; user_code: string; round_id: string; trans_type: number; provider_id: string; game_code: string; trans_amount: number; regdate: string }[];
    const journal = vendors.journal.operations.filter((op) => op.provider === vendor.id);
    const bets = journal.filter((op) => op.call === 'bet' && op.final === 'ok').map((op) => op.transId);
    const wins = journal.filter((op) => op.call === 'win' && op.final === 'ok').map((op) => op.transId);
    expect(rows.filter((r) => r.trans_type === 1).map((r) => String(r.trans_id)).sort()).toEqual([...bets].sort());
    expect(rows.filter((r) => r.trans_type === 2).map((r) => String(r.trans_id)).sort()).toEqual([...wins].sort());
    const users = new Map(vendor.users().map((u) => [u.user_code, u.name]));
    for (const r of rows) expect(PLAYERS).toContain(users.get(r.user_code));

    const page = await api(vendor, '/v4/game/transaction-id', { last_id: rows[2]!.trans_id, limit: 3 });
    expect(page.json.data).toEqual(rows.slice(3, 6));

    const kst = (ms: number) => new Date(ms + 9 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    const window = await api(vendor, '/v4/game/transaction', { start_time: kst(Date.now() - 1_800_000), end_time: kst(Date.now() + 1_800_000), offset: 0, limit: 2000 });
    expect(window.json.data).toMatchObject({ total: rows.length, offset: 0, count: rows.length });

    const row = rows[0]!;
    const details = await api(vendor, '/v4/game/round-details', { user_code: row.user_code, round_id: row.round_id, provider_id: row.provider_id, game_code: row.game_code });
    expect(details.json).toEqual({ code: 0, message: 'OK', data: { url: `${vendor.url}/rounds/${row.round_id}` } });
    const page2 = await fetch(details.json.data.url);
    expect(page2.status).toBe(200);
    await page2.text();
  });

  it('a player the casino does not know, or has blocked, is refused: nothing moves', async () => {
    await gw.fund('sim_blocked', { USD: '50.00' });
    expect((await gw.gateway.backOffice.setStatus(PlayerCode('sim_blocked'), 'blocked')).ok).toBe(true);
    const vendor = vendors['scorpio-play'];
    const unknown = await vendor.open(await commandGameUrl(vendor, 'sim_nobody'));
    const blocked = await vendor.open(await commandGameUrl(vendor, 'sim_blocked'));
    const event = await vendors.dowinn.open(await eventGameUrl(vendors.dowinn, 'sim_blocked'));
    expect([unknown.ended, blocked.ended, event.ended]).toEqual(['refused', 'refused', 'refused']);
    expect([unknown.change, blocked.change, event.change]).toEqual([0n, 0n, 0n]);
    // The unknown player fails its authenticate (21); the blocked one bets once and is refused (22); the event login answers R3.
    const replies = (id: string) => vendors.journal.attempts.filter((a) => a.session === id && a.copy === 0).map((a) => `${a.call}:${String(a.reply)}`);
    expect(replies(unknown.id)).toEqual(['authenticate:21']);
    expect(replies(blocked.id)).toEqual(expect.arrayContaining(['authenticate:0', 'bet:22']));
    expect(replies(event.id)).toEqual(['login:R3']);
    expect((await walletBalances(gw)).get('sim_blocked')!.get('USD')).toBe(5000n);
    expect(await gw.reconcile()).toEqual([]);
  });
});
