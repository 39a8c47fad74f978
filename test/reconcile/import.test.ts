import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ev from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { csvOf, importExport as importCsv, resolveFinding, roundOf } from './helpers.ts';

/**
 * An imported export, against the ledger of an event-dialect provider (the dialect whose vendor sends
 * exports): its events may name their currency, so one provider's ledger holds several, and its
 * cancels refund bet lines (no rollback row). An export is in one currency: it is compared with that
 * currency's money only, and what it finds is owed in it; a cancel of lines the wallet refunded is
 * matched, and a refund the vendor does not list is found.
 */

let gw: TestGateway;
const started = new Date(Date.now() - 60_000);
const KRW_BET = ev.txId();
const USD_BET = ev.txId();
const krwRound = ev.newRound();
const usdRound = ev.newRound();

const importExport = (currency: string, csv: string) => importCsv(gw, started, currency, csv);

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('ri-kim', { USD: '100', KRW: '100000' });
  await ev.expectEvent(gw, ev.bet('ri-kim', usdRound, [[1, 10]], { id: USD_BET }), 'R0', 90);
  await ev.expectEvent(gw, ev.bet('ri-kim', krwRound, [[1, 3000], [2, 2000]], { id: KRW_BET, currency: 'KRW' }), 'R0', 95000);
});
afterAll(() => gw?.close());

describe('an export of a provider whose ledger holds two currencies', () => {
  it('is compared with the money of its own currency, and a win it lists that the wallet never paid is owed in that currency', async () => {
    const run = await importExport('KRW', csvOf([
      [KRW_BET, 'bet', 'ri-kim', roundOf(krwRound), '5000'],
      ['ri-lost-win', 'win', 'ri-kim', roundOf(krwRound), '7000'],
    ]));
    expect(run.findings.map((f) => `${f.kind} ${f.key}`)).toEqual(['missing_at_casino ri-lost-win']);
    expect(run.findings[0]).toMatchObject({ player: 'ri-kim', currency: 'KRW' });
    expect(run.matched).toBe(1);
    // The USD export of the same provider and period: the USD bet matches, nothing of KRW is missing.
    const usd = await importExport('USD', csvOf([[USD_BET, 'bet', 'ri-kim', roundOf(usdRound), '10.00']]));
    expect(usd.findings).toEqual([]);
    expect(usd.matched).toBe(1);
  });
});

describe('an export with the cancels of bet lines', () => {
  it('matches a cancel of lines the wallet refunded, and finds a refund the vendor does not list', async () => {
    await gw.fund('ri-lee', { USD: '100' });
    const listed = ev.newRound();
    const unlisted = ev.newRound();
    const [b1, c1, b2, c2] = [ev.txId(), ev.txId(), ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('ri-lee', listed, [[1, 6], [2, 4]], { id: b1 }), 'R0', 90);
    await ev.expectEvent(gw, ev.cancel('ri-lee', listed, [[2, 4]], { id: c1 }), 'R0', 94);
    await ev.expectEvent(gw, ev.bet('ri-lee', unlisted, [[1, 3]], { id: b2 }), 'R0', 91);
    await ev.expectEvent(gw, ev.cancel('ri-lee', unlisted, [[1, 3]], { id: c2 }), 'R0', 94);
    const run = await importExport('USD', csvOf([
      [USD_BET, 'bet', 'ri-kim', roundOf(usdRound), '10.00'],
      [b1, 'bet', 'ri-lee', roundOf(listed), '10.00'],
      [c1, 'cancel', 'ri-lee', roundOf(listed), '4.00'],
      [b2, 'bet', 'ri-lee', roundOf(unlisted), '3.00'],
    ]));
    expect(run.findings.map((f) => `${f.kind} ${f.key}`)).toEqual([`missing_at_vendor rollback:${c2}`]);
    expect(run.findings[0]).toMatchObject({ player: 'ri-lee', currency: 'USD' });
    expect(run.matched).toBe(4);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('an export imported in the wrong currency', () => {
  it('finds the currency differs for what the wallet moved in another one, and no adjustment pays it again', async () => {
    await gw.fund('ri-max', { USD: '100', EUR: '100' });
    const round = ev.newRound();
    const [bet, win, cancelled, refund] = [ev.txId(), ev.txId(), ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('ri-max', round, [[1, 4], [2, 3]], { id: bet, currency: 'EUR' }), 'R0', 93);
    await ev.expectEvent(gw, ev.cancel('ri-max', round, [[2, 3]], { id: refund, currency: 'EUR' }), 'R0', 96);
    await ev.expectEvent(gw, ev.result('ri-max', round, 4, 4, { id: win }), 'R0', 104);
    const other = ev.newRound();
    await ev.expectEvent(gw, ev.bet('ri-max', other, [[1, 2]], { id: cancelled, currency: 'EUR' }), 'R0', 102);
    const before = { usd: await ev.balanceOf(gw, 'ri-max', 'USD'), eur: await ev.balanceOf(gw, 'ri-max', 'EUR') };
    // The EUR rounds' records, imported as USD.
    const run = await importExport('USD', csvOf([
      [bet, 'bet', 'ri-max', roundOf(round), '7.00'],
      [refund, 'cancel', 'ri-max', roundOf(round), '3.00'],
      [win, 'win', 'ri-max', roundOf(round), '8.00'],
      [cancelled, 'bet', 'ri-max', roundOf(other), '2.00'],
    ]));
    const found = run.findings.filter((f) => f.player === 'ri-max');
    expect(found.map((f) => `${f.kind} ${f.key}`).sort()).toEqual([
      `currency_mismatch ${bet}`,
      `currency_mismatch ${cancelled}`,
      `currency_mismatch ${win}`,
      `currency_mismatch cancel:ri-max:${roundOf(round)}:300`,
    ].sort());
    expect(found.find((f) => f.key === win)!.detail).toContain('EUR');
    for (const f of found) {
      const adjusted = await resolveFinding(gw, f.id, { action: 'adjust', direction: 'deposit', amount: f.key.startsWith('cancel:') ? '3.00' : '8.00', note: 'as the vendor says' });
      expect(adjusted.status).toBe(422);
      expect(adjusted.json.error!.message).toContain('currency');
    }
    expect({ usd: await ev.balanceOf(gw, 'ri-max', 'USD'), eur: await ev.balanceOf(gw, 'ri-max', 'EUR') }).toEqual(before);
    // Imported in its own currency, the same export matches.
    const eur = await importExport('EUR', csvOf([
      [bet, 'bet', 'ri-max', roundOf(round), '7.00'],
      [refund, 'cancel', 'ri-max', roundOf(round), '3.00'],
      [win, 'win', 'ri-max', roundOf(round), '8.00'],
      [cancelled, 'bet', 'ri-max', roundOf(other), '2.00'],
    ]));
    expect(eur.findings.filter((f) => f.player === 'ri-max')).toEqual([]);
    // ... and that run clears the mismatches the wrong import left open.
    expect(eur.cleared).toBeGreaterThanOrEqual(4);
    const after = await gw.gateway.db.selectFrom('vendor_findings').select(['state', 'resolution']).where('id', 'in', found.map((f) => BigInt(f.id))).execute();
    expect(after.map((f) => [f.state, (f.resolution as { action: string }).action])).toEqual(found.map(() => ['resolved', 'cleared']));
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe("a lost result of a dialect whose result settles its round, paid by an adjustment", () => {
  it('settles the round: the late result is a repeat, and a change or cancel after it moves nothing', async () => {
    await gw.fund('ri-ned', { USD: '100' });
    const round = ev.newRound();
    const [bet, result] = [ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('ri-ned', round, [[1, 5]], { id: bet }), 'R0', 95);
    const run = await importExport('USD', csvOf([
      [bet, 'bet', 'ri-ned', roundOf(round), '5.00'],
      [result, 'win', 'ri-ned', roundOf(round), '8.00'],
    ]));
    const lost = run.findings.find((f) => f.key === result)!;
    const paid = await resolveFinding(gw, lost.id, { action: 'adjust', direction: 'deposit', amount: '8.00', note: 'lost result' });
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { paidAs: 'win', transaction: result } });
    expect(await ev.balanceOf(gw, 'ri-ned')).toBe(10_300n);
    const lines = await gw.gateway.db.selectFrom('bet_lines as l').innerJoin('rounds as r', 'r.id', 'l.round_id').select('l.state').where('r.external_id', '=', roundOf(round)).execute();
    expect(lines.map((l) => l.state)).toEqual(['settled']);
    // The vendor's result arrives late: a repeat. Then a change and a cancel, which the wallet cannot check against figures it never had.
    await ev.expectEvent(gw, ev.result('ri-ned', round, 5, 3, { id: result }), 'R0', 103);
    await ev.expectEvent(gw, ev.resultChange('ri-ned', round, 5, 1, 3), 'R3', 103);
    await ev.expectEvent(gw, ev.cancel('ri-ned', round, [[1, 5]]), 'R3', 103);
    expect(await ev.balanceOf(gw, 'ri-ned')).toBe(10_300n);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a lost result of a round a result change already settled', () => {
  it('is not paid by an adjustment: the change settled the round, and the original result owes nothing more', async () => {
    await gw.fund('ri-oz', { USD: '100' });
    const round = ev.newRound();
    const [bet, result, change] = [ev.txId(), ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('ri-oz', round, [[1, 5]], { id: bet }), 'R0', 95);
    // The change (the result corrected from +3 to +1) overtook the result, which never arrived.
    await ev.expectEvent(gw, ev.resultChange('ri-oz', round, 5, 1, 3, { id: change }), 'R0', 101);
    const run = await importExport('USD', csvOf([
      [bet, 'bet', 'ri-oz', roundOf(round), '5.00'],
      [result, 'win', 'ri-oz', roundOf(round), '8.00'],
    ]));
    const lost = run.findings.find((f) => f.key === result)!;
    const refused = await resolveFinding(gw, lost.id, { action: 'adjust', direction: 'deposit', amount: '8.00', note: 'lost result' });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain('round_settled');
    expect(await ev.balanceOf(gw, 'ri-oz')).toBe(10_100n);
  });
});

describe('a cancel the wallet refused because a result settled its line', () => {
  it('can be paid by an adjustment, once: nothing was refunded since the comparison', async () => {
    await gw.fund('ri-pia', { USD: '100' });
    const round = ev.newRound();
    const [bet, cancel] = [ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('ri-pia', round, [[1, 5]], { id: bet }), 'R0', 95);
    await ev.expectEvent(gw, ev.result('ri-pia', round, 5, -5), 'R0', 95);
    await ev.expectEvent(gw, ev.cancel('ri-pia', round, [[1, 5]], { id: cancel }), 'R3', 95);
    const run = await importExport('USD', csvOf([
      [bet, 'bet', 'ri-pia', roundOf(round), '5.00'],
      [cancel, 'cancel', 'ri-pia', roundOf(round), '5.00'],
    ]));
    const owed = run.findings.find((f) => f.kind === 'status_mismatch' && f.player === 'ri-pia')!;
    const paid = await resolveFinding(gw, owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'the vendor voided the round' });
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { reference: `reconcile-${owed.id}` } });
    expect(await ev.balanceOf(gw, 'ri-pia')).toBe(10_000n);
  });
});

describe('a cancel finding explained before its comparison kept a count of refunds', () => {
  it('stays explained when the same period is compared again', async () => {
    await gw.fund('ri-quo', { USD: '100' });
    const round = ev.newRound();
    const bet = ev.txId();
    await ev.expectEvent(gw, ev.bet('ri-quo', round, [[1, 5]], { id: bet }), 'R0', 95);
    const rows = csvOf([[bet, 'bet', 'ri-quo', roundOf(round), '5.00'], [ev.txId(), 'cancel', 'ri-quo', roundOf(round), '5.00']]);
    const owed = (await importExport('USD', rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'ri-quo')!;
    // As an earlier release kept it: explained, with no count.
    await gw.gateway.db.updateTable('vendor_findings').set({ state: 'explained', resolution: JSON.stringify({ action: 'explain', note: 'known' }), ledger: null }).where('id', '=', BigInt(owed.id)).execute();
    const again = (await importExport('USD', rows)).findings.find((f) => f.id === owed.id)!;
    expect(again.state).toBe('explained');
  });
});
