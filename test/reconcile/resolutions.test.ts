import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asCurrency } from '../../src/money/currency.ts';
import { Reports } from '../../src/reports/ggr.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import * as command from '../command/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { holdWallet } from '../webhooks/helpers.ts';
import { csvOf, importExport, resolveFinding } from './helpers.ts';

/**
 * Resolving findings so that money moves once (found by an operator's walk): a lost win paid by an
 * adjustment is not paid again when the win itself arrives late; a finding is resolved by a replay of
 * its own transaction only; a finding reopened by new facts can be adjusted again.
 */

const SP = 'scorpio-play';
let gw: TestGateway;
const started = new Date(Date.now() - 60_000);
const exported = (rows: string[][]) => importExport(gw, started, 'USD', csvOf(rows), SP);
const usd = (player: string) => command.wallet(gw, player, 'USD');
const resolve = (id: string, body: object) => resolveFinding(gw, id, body);

beforeAll(async () => {
  gw = await startTestGateway();
  for (const p of ['rs-ann', 'rs-bob', 'rs-cid', 'rs-dee', 'rs-eve', 'rs-fay', 'rs-gil', 'rs-hal', 'rs-ivy', 'rs-jon', 'rs-kat', 'rs-lou']) await gw.fund(p, { USD: '100' });
});
afterAll(() => gw?.close());

describe('a lost win paid by an adjustment', () => {
  it('is paid as the win itself: when the win arrives late it is a repeat, and the next comparison matches it', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-ann', Number(bet), 5, { round: 'rs-r1' }), command.ok('95'));
    const rows = [[bet, 'bet', 'rs-ann', 'rs-r1', '5.00'], [win, 'win', 'rs-ann', 'rs-r1', '8.00']];
    const lost = (await exported(rows)).findings.find((f) => f.kind === 'missing_at_casino' && f.key === win)!;
    const paid = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '8.00', note: 'lost in transit' });
    expect(paid.status).toBe(200);
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { action: 'adjust', paidAs: 'win', transaction: win, outcome: 'ok' } });
    expect(await usd('rs-ann')).toBe(10_300n);
    // The vendor's retry (or its export of failed calls imported): the same win, now a repeat.
    const late = await gw.callback(SP, command.win('rs-ann', Number(win), 8, { round: 'rs-r1' }));
    expect(late.json.result).toBe(41);
    expect(await usd('rs-ann')).toBe(10_300n);
    expect((await exported(rows)).findings.filter((f) => f.key === win && f.state === 'open')).toEqual([]);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a lost win the wallet cannot pay as listed', () => {
  it('is paid as the vendor lists it, never at another amount', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-hal', Number(bet), 5, { round: 'rs-r8' }), command.ok('95'));
    const lost = (await exported([[bet, 'bet', 'rs-hal', 'rs-r8', '5.00'], [win, 'win', 'rs-hal', 'rs-r8', '8.00']])).findings.find((f) => f.key === win)!;
    const typo = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '80.00', note: 'lost' });
    expect(typo.status).toBe(422);
    expect(typo.json.error!.message).toContain('the vendor lists this win at 8.00');
    expect(await usd('rs-hal')).toBe(9_500n);
    expect((await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '8.00', note: 'lost' })).json).toMatchObject({ state: 'resolved', resolution: { paidAs: 'win' } });
    expect(await usd('rs-hal')).toBe(10_300n);
  });

  it('is not paid by the cashier when the wallet refuses it: a win the vendor cancelled before it arrived', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-ivy', Number(bet), 5, { round: 'rs-r9' }), command.ok('95'));
    expect((await gw.callback(SP, command.cancel('rs-ivy', Number(win), { round: 'rs-r9' }))).json.result).toBe(42);
    const lost = (await exported([[bet, 'bet', 'rs-ivy', 'rs-r9', '5.00'], [win, 'win', 'rs-ivy', 'rs-r9', '6.00']])).findings.find((f) => f.key === win)!;
    expect(lost.kind).toBe('missing_at_casino');
    const refused = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '6.00', note: 'lost' });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain('rolled_back');
    expect(await usd('rs-ivy')).toBe(9_500n);
    // The vendor's retry of the win is refused too: nothing was owed.
    expect((await gw.callback(SP, command.win('rs-ivy', Number(win), 6, { round: 'rs-r9' }))).json.result).not.toBe(0);
    expect(await usd('rs-ivy')).toBe(9_500n);
  });
});

describe('an adjustment the wallet cannot apply now (its row held elsewhere)', () => {
  it('is refused with nothing moved, the finding still open, and applies when tried again', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-eve', Number(bet), 5, { round: 'rs-r4' }), command.ok('95'));
    const lost = (await exported([[bet, 'bet', 'rs-eve', 'rs-r4', '5.00'], [win, 'win', 'rs-eve', 'rs-r4', '6.00']])).findings.find((f) => f.key === win)!;
    const release = await holdWallet(gw, 'rs-eve', 'USD');
    let busy;
    try {
      busy = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '6.00', note: 'lost' });
    } finally {
      await release();
    }
    expect(busy.status).toBe(422);
    expect(busy.json.error!.message).toMatch(/could not apply it now.*nothing moved, try again/);
    expect(await usd('rs-eve')).toBe(9_500n);
    const again = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '6.00', note: 'lost' });
    expect(again.json).toMatchObject({ state: 'resolved', resolution: { paidAs: 'win' } });
    expect(await usd('rs-eve')).toBe(10_100n);
  });
});

describe('a cancel the wallet never applied, refunded by an adjustment', () => {
  it("is refunded as the rollback of the bet it cancels: the vendor's cancel arriving late refunds nothing", async () => {
    const [bet, cancel] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-dee', Number(bet), 5, { round: 'rs-r3' }), command.ok('95'));
    const rows = [[bet, 'bet', 'rs-dee', 'rs-r3', '5.00'], [cancel, 'cancel', 'rs-dee', 'rs-r3', '5.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-dee')!;
    const paid = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'cancel lost in transit' });
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { paidAs: 'cancel', transaction: bet, outcome: 'ok' } });
    expect(await usd('rs-dee')).toBe(10_000n);
    const late = await gw.callback(SP, command.cancel('rs-dee', Number(bet), { round: 'rs-r3' }));
    expect(JSON.parse(late.text).data.balance).toBe(100);
    expect(await usd('rs-dee')).toBe(10_000n);
    expect((await exported(rows)).findings.filter((f) => f.player === 'rs-dee' && f.state === 'open')).toEqual([]);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a finding resolved by a replay', () => {
  it("needs a webhook of the finding's own transaction: another call answered 'duplicate' closes nothing", async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-bob', Number(bet), 5, { round: 'rs-r2' }), command.ok('95'));
    const lost = (await exported([[bet, 'bet', 'rs-bob', 'rs-r2', '5.00'], [win, 'win', 'rs-bob', 'rs-r2', '3.00']])).findings.find((f) => f.key === win)!;
    const other = await gw.gateway.db.selectFrom('webhooks').select('id').where('transaction_id', '=', bet).executeTakeFirstOrThrow();
    const refused = await resolve(lost.id, { action: 'replay', webhookId: other.id.toString() });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain(`is not a call of transaction ${win}`);
    const still = await gw.gateway.db.selectFrom('vendor_findings').select('state').where('id', '=', BigInt(lost.id)).executeTakeFirstOrThrow();
    expect(still.state).toBe('open');
  });
});

describe('a finding reopened by new facts', () => {
  it('can be adjusted again, by the difference, under a reference of its own', async () => {
    // The casino paid 12.50; the vendor lists 12.60, later 12.70: an amount mismatch, adjusted by the cashier.
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-cid', Number(bet), 5, { round: 'rs-r5' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.win('rs-cid', Number(win), 12.5, { round: 'rs-r5' }), command.ok('107.5'));
    const listed = (amount: string) => exported([[bet, 'bet', 'rs-cid', 'rs-r5', '5.00'], [win, 'win', 'rs-cid', 'rs-r5', amount]]);
    const first = (await listed('12.60')).findings.find((f) => f.key === win && f.kind === 'amount_mismatch')!;
    const paid = await resolve(first.id, { action: 'adjust', direction: 'deposit', amount: '0.10', note: 'as listed' });
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { reference: `reconcile-${first.id}` } });
    const reopened = (await listed('12.70')).findings.find((f) => f.key === win && f.kind === 'amount_mismatch')!;
    expect([reopened.id, reopened.state]).toEqual([first.id, 'open']);
    const difference = await resolve(first.id, { action: 'adjust', direction: 'deposit', amount: '0.10', note: 'the vendor corrected it again' });
    expect(difference.json).toMatchObject({ state: 'resolved', resolution: { reference: `reconcile-${first.id}-2` } });
    expect(await usd('rs-cid')).toBe(10_000n - 500n + 1_270n);
  });
});

describe('a lost win whose bet was lost too', () => {
  it('is paid as that win without a stake, so neither the late bet nor the late win pays it again', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    const lost = (await exported([[bet, 'bet', 'rs-fay', 'rs-r6', '5.00'], [win, 'win', 'rs-fay', 'rs-r6', '8.00']])).findings.find((f) => f.key === win)!;
    const paid = await resolve(lost.id, { action: 'adjust', direction: 'deposit', amount: '8.00', note: 'the vendor paid it' });
    expect(paid.json).toMatchObject({ state: 'resolved', resolution: { paidAs: 'win', transaction: win } });
    expect(await usd('rs-fay')).toBe(10_800n);
    // The vendor's retries arrive: the bet is new and taken; the win is a repeat.
    await command.expectAnswer(gw, SP, command.bet('rs-fay', Number(bet), 5, { round: 'rs-r6' }), command.ok('103'));
    expect((await gw.callback(SP, command.win('rs-fay', Number(win), 8, { round: 'rs-r6' }))).json.result).toBe(41);
    expect(await usd('rs-fay')).toBe(10_300n);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a cancel finding resolved by a replay', () => {
  it("needs a cancel of the player's on that round: the player's balance call or old bet closes nothing", async () => {
    const bet = String(command.transId());
    await command.expectAnswer(gw, SP, command.bet('rs-gil', Number(bet), 5, { round: 'rs-r7' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.balance('rs-gil'), command.ok('95'));
    const owed = (await exported([[bet, 'bet', 'rs-gil', 'rs-r7', '5.00'], [String(command.transId()), 'cancel', 'rs-gil', 'rs-r7', '5.00']])).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-gil')!;
    const calls = await gw.gateway.db.selectFrom('webhooks').select(['id', 'operation']).where('player_code', '=', 'rs-gil').orderBy('id').execute();
    for (const call of calls) {
      const refused = await resolve(owed.id, { action: 'replay', webhookId: call.id.toString() });
      expect(refused.status).toBe(422);
      expect(refused.json.error!.message).toMatch(/is not a rollback or cancel_bets of player rs-gil/);
    }
    expect(await usd('rs-gil')).toBe(9_500n);
  });
});

describe('a finding resolved twice at once (two operators, a double click, two gateway processes)', () => {
  it('is adjusted once: the second request finds it resolved', async () => {
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-jon', Number(bet), 5, { round: 'rs-r10' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.win('rs-jon', Number(win), 12.5, { round: 'rs-r10' }), command.ok('107.5'));
    const mismatch = (await exported([[bet, 'bet', 'rs-jon', 'rs-r10', '5.00'], [win, 'win', 'rs-jon', 'rs-r10', '12.60']])).findings.find((f) => f.kind === 'amount_mismatch')!;
    const answers = await Promise.all(Array.from({ length: 8 }, () => resolve(mismatch.id, { action: 'adjust', direction: 'deposit', amount: '0.10', note: 'as listed' })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect(await usd('rs-jon')).toBe(10_760n);
  });

  it('refunds a lost cancel once', async () => {
    const [bet, cancel] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-kat', Number(bet), 5, { round: 'rs-r11' }), command.ok('95'));
    const owed = (await exported([[bet, 'bet', 'rs-kat', 'rs-r11', '5.00'], [cancel, 'cancel', 'rs-kat', 'rs-r11', '5.00']])).findings.find((f) => f.kind === 'status_mismatch')!;
    const answers = await Promise.all(Array.from({ length: 8 }, () => resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'lost cancel' })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect(await usd('rs-kat')).toBe(10_000n);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe("a cancel finding the vendor's late cancel has already refunded", () => {
  it('is not refunded again by an adjustment: nothing of the round stands', async () => {
    const [bet, cancel] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-lou', Number(bet), 5, { round: 'rs-r12' }), command.ok('95'));
    const owed = (await exported([[bet, 'bet', 'rs-lou', 'rs-r12', '5.00'], [cancel, 'cancel', 'rs-lou', 'rs-r12', '5.00']])).findings.find((f) => f.kind === 'status_mismatch')!;
    // The vendor's retry of the cancel lands before finance gets to the finding.
    expect((await gw.callback(SP, command.cancel('rs-lou', Number(bet), { round: 'rs-r12' }))).json.result).toBe(0);
    expect(await usd('rs-lou')).toBe(10_000n);
    // As a refund whose transaction began before the comparison and committed after its reads looks:
    // stamped before the run (the ledger is insert-only: its guards are set aside for this one update).
    await gw.gateway.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update rollbacks set created_at = (select started_at - interval '1 second' from vendor_reconcile_runs order by id desc limit 1)
        where target_external_id = ${bet}`.execute(trx);
    });
    const stale = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'lost cancel' });
    expect(stale.status).toBe(422);
    expect(stale.json.error!.message).toContain('the wallet has refunded that much on round rs-r12 since the comparison');
    expect(await usd('rs-lou')).toBe(10_000n);
  });

  it('is not refunded again when another stake of the round is still open', async () => {
    await gw.fund('rs-nat', { USD: '100' });
    const [a, b, cancel] = [String(command.transId()), String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-nat', Number(a), 5, { round: 'rs-r14' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.bet('rs-nat', Number(b), 7, { round: 'rs-r14' }), command.ok('88'));
    const rows = [[a, 'bet', 'rs-nat', 'rs-r14', '5.00'], [b, 'bet', 'rs-nat', 'rs-r14', '7.00'], [cancel, 'cancel', 'rs-nat', 'rs-r14', '5.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-nat')!;
    expect((await gw.callback(SP, command.cancel('rs-nat', Number(a), { round: 'rs-r14' }))).json.result).toBe(0);
    const stale = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'lost cancel' });
    expect(stale.status).toBe(422);
    expect(await usd('rs-nat')).toBe(9_300n);
  });
});

describe('a cancel the vendor lists without its round', () => {
  it('is not refunded from the cashier: no bet of the wallet can be told to be the one it cancelled', async () => {
    await gw.fund('rs-ray', { USD: '100' });
    const bet = String(command.transId());
    await command.expectAnswer(gw, SP, command.bet('rs-ray', Number(bet), 10, { round: 'rs-r18' }), command.ok('90'));
    const rows = [[bet, 'bet', 'rs-ray', 'rs-r18', '10.00'], [String(command.transId()), 'cancel', 'rs-ray', '', '10.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-ray')!;
    const refused = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '10.00', note: 'lost cancel' });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain('names no round');
    expect(await usd('rs-ray')).toBe(9_000n);
  });
});

describe("a cancel finding the vendor's late cancel could still refund", () => {
  it('is refunded at the amount the vendor lists, and not by the cashier while open stakes could meet the late cancel', async () => {
    await gw.fund('rs-quin', { USD: '100' });
    const [a, b] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-quin', Number(a), 5, { round: 'rs-r17' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.bet('rs-quin', Number(b), 5, { round: 'rs-r17' }), command.ok('90'));
    const rows = [[a, 'bet', 'rs-quin', 'rs-r17', '5.00'], [b, 'bet', 'rs-quin', 'rs-r17', '5.00'], [String(command.transId()), 'cancel', 'rs-quin', 'rs-r17', '5.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-quin')!;
    // 500 typed for 5.00 (the finding's text gives minor units): not what the vendor cancelled.
    const typo = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '500', note: 'lost cancel' });
    expect(typo.status).toBe(422);
    expect(typo.json.error!.message).toContain('the vendor lists this cancel at 5.00 USD');
    // Two bets of 5.00 stand: which one it cancelled, only the vendor's cancel says, and it would refund that one when it arrives.
    const ambiguous = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'lost cancel' });
    expect(ambiguous.status).toBe(422);
    expect(ambiguous.json.error!.message).toContain('still holds 10.00 USD of open stakes');
    expect(await usd('rs-quin')).toBe(9_000n);
    // The vendor's cancel arrives: it refunds its bet, once.
    await command.expectAnswer(gw, SP, command.cancel('rs-quin', Number(b), { round: 'rs-r17' }), command.ok('95'));
    expect(await usd('rs-quin')).toBe(9_500n);
  });
});

describe('a cancel finding whose bet the wallet will refund when a win is rolled back', () => {
  it('is not paid by the cashier either when another bet of that amount stands (no single bet to roll back)', async () => {
    await gw.fund('rs-pat', { USD: '100' });
    const [b1, b2, win] = [String(command.transId()), String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-pat', Number(b1), 10, { round: 'rs-r16' }), command.ok('90'));
    await command.expectAnswer(gw, SP, command.win('rs-pat', Number(win), 5, { round: 'rs-r16' }), command.ok('95'));
    expect((await gw.callback(SP, command.cancel('rs-pat', Number(b1), { round: 'rs-r16' }))).json.result).toBe(99);
    await command.expectAnswer(gw, SP, command.bet('rs-pat', Number(b2), 10, { round: 'rs-r16' }), command.ok('85'));
    const rows = [[b1, 'bet', 'rs-pat', 'rs-r16', '10.00'], [b2, 'bet', 'rs-pat', 'rs-r16', '10.00'], [win, 'win', 'rs-pat', 'rs-r16', '5.00'], [String(command.transId()), 'cancel', 'rs-pat', 'rs-r16', '10.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-pat')!;
    const refused = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '10.00', note: 'lost cancel' });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain(`holds back the rollback of bet ${b1}`);
    expect(await usd('rs-pat')).toBe(8_500n);
    await command.expectAnswer(gw, SP, command.cancel('rs-pat', Number(win), { round: 'rs-r16' }), command.ok('90'));
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a cancel finding whose bet the wallet will not roll back yet (a win stands on it alone)', () => {
  it('is not paid by the cashier: the win\'s rollback refunds the bet, once', async () => {
    await gw.fund('rs-ola', { USD: '100' });
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-ola', Number(bet), 5, { round: 'rs-r15' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.win('rs-ola', Number(win), 8, { round: 'rs-r15' }), command.ok('103'));
    expect((await gw.callback(SP, command.cancel('rs-ola', Number(bet), { round: 'rs-r15' }))).json.result).toBe(99);
    const rows = [[bet, 'bet', 'rs-ola', 'rs-r15', '5.00'], [win, 'win', 'rs-ola', 'rs-r15', '8.00'], [String(command.transId()), 'cancel', 'rs-ola', 'rs-r15', '5.00']];
    const owed = (await exported(rows)).findings.find((f) => f.kind === 'status_mismatch' && f.player === 'rs-ola')!;
    const refused = await resolve(owed.id, { action: 'adjust', direction: 'deposit', amount: '5.00', note: 'lost cancel' });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.message).toContain('win_stands');
    expect(await usd('rs-ola')).toBe(10_300n);
    // The vendor voids the round: the win goes back, and the bet with it.
    await command.expectAnswer(gw, SP, command.cancel('rs-ola', Number(win), { round: 'rs-r15' }), command.ok('100'));
    expect(await usd('rs-ola')).toBe(10_000n);
    expect(await gw.reconcile()).toEqual([]);
  });
});

describe('a cashier adjustment made by reconciliation, in the revenue report', () => {
  it("counts in the GGR of the finding's provider and currency, on the day it was paid, live and rolled up", async () => {
    await gw.fund('rs-max', { USD: '100' });
    const [bet, win] = [String(command.transId()), String(command.transId())];
    await command.expectAnswer(gw, SP, command.bet('rs-max', Number(bet), 5, { round: 'rs-r13' }), command.ok('95'));
    await command.expectAnswer(gw, SP, command.win('rs-max', Number(win), 12.5, { round: 'rs-r13' }), command.ok('107.5'));
    const today = new Date().toISOString().slice(0, 10);
    const ggr = async () => {
      const res = await fetch(`${gw.url}/v1/reports/ggr?from=${today}&to=${today}&provider=${SP}&currency=USD`, { headers: { authorization: `Bearer ${await gw.adminToken('viewer')}` } });
      return ((await res.json()) as { rows: Record<string, string>[] }).rows;
    };
    const before = await ggr();
    const mismatch = (await exported([[bet, 'bet', 'rs-max', 'rs-r13', '5.00'], [win, 'win', 'rs-max', 'rs-r13', '12.60']])).findings.find((f) => f.kind === 'amount_mismatch' && f.key === win)!;
    expect((await resolve(mismatch.id, { action: 'adjust', direction: 'deposit', amount: '0.10', note: 'as listed' })).json).toMatchObject({ state: 'resolved', resolution: { reference: `reconcile-${mismatch.id}` } });
    // A cashier operation of finance's own (not a finding's) is no game money, whatever its reference says.
    expect((await gw.gateway.backOffice.cashier('deposit', PlayerCode('rs-max'), asCurrency('USD'), 1_000n, `reconcile-${mismatch.id}-9`)).ok).toBe(true);
    const after = await ggr();
    // The tests above adjusted too, today: this one adds its 0.10 to the provider's row with no game.
    const cents = (rows: Record<string, string>[], field: string) => rows.reduce((sum, r) => sum + Math.round(Number(r[field]) * 100), 0);
    const row = after.find((r) => r.game === '')!;
    expect(row).toMatchObject({ provider: SP, currency: 'USD', stakes: '0.00', wins: '0.00' });
    expect(cents([row], 'reconciliation')).toBe(cents(before.filter((r) => r.game === ''), 'reconciliation') + 10);
    expect(cents([row], 'ggr')).toBe(-cents([row], 'reconciliation'));
    expect(cents(after, 'ggr')).toBe(cents(before, 'ggr') - 10);
    // Rolled up as a closed day, the day reads the same.
    await new Reports(gw.gateway.db).rollUp(Date.now() + 2 * 86_400_000, 1_000);
    expect(await ggr()).toEqual(after);
  });
});
