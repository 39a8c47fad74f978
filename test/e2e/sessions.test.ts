import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_IDS } from '../../simulator/demo.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startWorld, type World } from '../vendors/world.ts';

/**
 * The whole flow, end to end, for every demo provider: the casino registers players and launches
 * games through /v1; the simulated vendors play whole sessions against the gateway the way vendors do
 * (retries of credits, duplicate deliveries, cancels, result changes); afterwards the ledger
 * reconciles and every wallet holds exactly what the vendors' answers promised.
 */

const PLAYERS = ['ann', 'ben', 'cat'];
const START = { USD: '200', EUR: '200', KRW: '200000' };

let w: World;
beforeAll(async () => {
  w = await startWorld({ vendors: { play: { retryDelayMs: [5, 15], duplicateRate: 0.15, rounds: 6, seed: 7 } } });
  for (const p of PLAYERS) await w.gw.fund(p, START);
});
afterAll(() => w?.close());

async function balances(): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const p of PLAYERS) {
    const view = await w.gw.gateway.backOffice.player(PlayerCode(p));
    if (!view.ok) throw new Error(view.reason);
    for (const wallet of view.value.wallets) out.set(`${p}/${wallet.currency}`, wallet.balance);
  }
  return out;
}

describe('sessions through every demo provider', () => {
  it('register, launch and play: balances match the vendors, the ledger reconciles, every call is in the history', async () => {
    const before = await balances();
    const sessions: Promise<unknown>[] = [];
    for (const provider of DEMO_IDS) {
      const games = (await w.v1('GET', `/providers/${provider}/games`)).json.games as { id: string }[];
      for (const [i, player] of PLAYERS.entries()) {
        const registered = await w.v1('POST', `/players/${player}/providers/${provider}`);
        expect(registered.status).toBe(201);
        const launch = await w.v1('POST', `/players/${player}/launch`, { provider, game: games[i % games.length]!.id });
        expect(launch.status).toBe(200);
        sessions.push(w.vendors[provider].open(launch.json.url));
      }
    }
    const reports = (await Promise.all(sessions)) as { provider: string; ended: string; rounds: number }[];
    expect(reports).toHaveLength(DEMO_IDS.length * PLAYERS.length);
    for (const r of reports) expect(r.ended, `${r.provider}`).toBe('completed');
    await w.vendors.idle();

    const journal = w.vendors.journal;
    expect(journal.problems).toEqual([]);
    expect(journal.unconfirmed()).toEqual([]);
    expect(journal.attempts.some((a) => a.copy > 0)).toBe(true);

    const after = await balances();
    for (const p of PLAYERS) {
      for (const currency of Object.keys(START)) {
        const key = `${p}/${currency}`;
        expect(after.get(key), key).toBe(before.get(key)! + journal.expectedChange(p, asCurrency(currency)));
      }
    }
    expect(await w.gw.reconcile()).toEqual([]);

    // Every call a vendor made is kept in the webhook history, each duplicate copy included.
    const kept = await sql<{ n: bigint }>`select count(*) as n from webhooks where source = 'vendor'`.execute(w.gw.database.db);
    expect(Number(kept.rows[0]!.n)).toBe(journal.attempts.length);
    const failures = await w.gw.gateway.history.countUnresolvedFailures();
    expect(failures).toBe(0);
  });
});
