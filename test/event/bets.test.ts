import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  answerTo,
  balanceOf,
  bet,
  block,
  cancel,
  cancelsOf,
  event,
  expectEvent,
  expectReconciled,
  ledgerState,
  linesOf,
  newRound,
  send,
  transactionsOf,
} from './helpers.ts';

/** bet (several bets of a round, each with its bet_index) and bet_cancel (refunds by bet index). */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('bet', () => {
  it('debits the total of several bets, decimals exactly, and stores each bet line', async () => {
    await gw.fund('ev_bet', { USD: '100' });
    const round = newRound();
    const b = bet('ev_bet', round, [
      [1, 10.5],
      [2, 20],
    ]);
    expect((b.data as { total_bet_amount: unknown }).total_bet_amount).toEqual(JSON.rawJSON('30.5'));
    await expectEvent(gw, b, 'R0', 69.5);

    expect(await balanceOf(gw, 'ev_bet')).toBe(6950n);
    expect(await linesOf(gw, round)).toEqual([
      { ref: '1', amount: 1050n, external_id: b.transaction_id },
      { ref: '2', amount: 2000n, external_id: b.transaction_id },
    ]);
    expect(await transactionsOf(gw, 'ev_bet')).toEqual([
      {
        external_id: b.transaction_id,
        kind: 'debit',
        amount: 3050n,
        currency: 'USD',
        status: 'applied',
        refusal: null,
        round: `${round.table_no}:${round.game_no}`,
        moved: 3050n,
        details: { feedback_data: 'TEST_FEEDBACK_DATA', game_type: 'BAC' },
      },
    ]);
    await expectReconciled(gw);
  });

  it('amounts as decimal strings and bet_index as strings are read exactly too; text/plain or application/json', async () => {
    await gw.fund('ev_bet_str', { USD: '1.00' });
    const round = newRound();
    const b = bet(
      'ev_bet_str',
      round,
      [
        ['a', '0.10'],
        ['b', '0.20'],
      ],
      { total: '0.30' },
    );
    await expectEvent(gw, b, 'R0', 0.7, { contentType: 'application/json' });
    expect(await balanceOf(gw, 'ev_bet_str')).toBe(70n);
    expect((await linesOf(gw, round)).map((l) => [l.ref, l.amount])).toEqual([
      ['a', 10n],
      ['b', 20n],
    ]);
  });

  it('betting the exact balance is allowed', async () => {
    await gw.fund('ev_bet_all', { USD: '30.5' });
    await expectEvent(gw, bet('ev_bet_all', newRound(), [[1, 30.5]]), 'R0', 0);
    expect(await balanceOf(gw, 'ev_bet_all')).toBe(0n);
  });

  it('bets whose amounts do not add up to total_bet_amount: R3, nothing changes', async () => {
    await gw.fund('ev_bet_sum', { USD: '100' });
    const before = await ledgerState(gw);
    const b = bet(
      'ev_bet_sum',
      newRound(),
      [
        [1, 10.5],
        [2, 20],
      ],
      { total: 30 },
    );
    await expectEvent(gw, b, 'R3');
    expect(await ledgerState(gw)).toEqual(before);
    expect(await balanceOf(gw, 'ev_bet_sum')).toBe(10000n);
  });

  it('the same bet_index twice in one event: R3, nothing changes', async () => {
    await gw.fund('ev_bet_dup_idx', { USD: '100' });
    const before = await ledgerState(gw);
    const b = bet('ev_bet_dup_idx', newRound(), [
      [1, 10],
      [1, 20],
    ]);
    await expectEvent(gw, b, 'R3');
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('amounts with more decimals than USD has, negative or non-numeric: R3, nothing changes', async () => {
    await gw.fund('ev_bet_bad', { USD: '100' });
    const before = await ledgerState(gw);
    for (const bets of [[[1, JSON.rawJSON('10.005')]], [[1, -10]], [[1, 'ten']], [[1, null]]] as const) {
      await expectEvent(gw, bet('ev_bet_bad', newRound(), bets, { total: bets[0][1] }), 'R3');
    }
    await expectEvent(gw, event('bet', 'ev_bet_bad', { currency: 'USD', table_no: 'T1', game_no: '1', total_bet_amount: 0, bets: [] }), 'R3');
    await expectEvent(gw, event('bet', 'ev_bet_bad'), 'R3'); // no data at all
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('the same event repeated: R0 with the same balance, debited once', async () => {
    await gw.fund('ev_bet_repeat', { USD: '100' });
    const round = newRound();
    const b = bet('ev_bet_repeat', round, [
      [1, 10],
      [2, 5.25],
    ]);
    await expectEvent(gw, b, 'R0', 84.75);
    const after = await ledgerState(gw);
    await expectEvent(gw, b, 'R0', 84.75);
    await expectEvent(gw, b, 'R0', 84.75, { contentType: 'application/json' });
    expect(await ledgerState(gw)).toEqual(after);
    expect(await balanceOf(gw, 'ev_bet_repeat')).toBe(8475n);
    expect(await linesOf(gw, round)).toHaveLength(2);
    expect(await transactionsOf(gw, 'ev_bet_repeat')).toHaveLength(1);
    await expectReconciled(gw);
  });

  it('the same transaction_id with other content (amount, round, player, event type): R3, nothing changes', async () => {
    await gw.fund('ev_bet_conflict', { USD: '100' });
    await gw.fund('ev_bet_conflict_other', { USD: '100' });
    const round = newRound();
    const b = bet('ev_bet_conflict', round, [[1, 10]]);
    await expectEvent(gw, b, 'R0', 90);
    const after = await ledgerState(gw);

    await expectEvent(gw, bet('ev_bet_conflict', round, [[1, 11]], { id: b.transaction_id }), 'R3', 90);
    await expectEvent(gw, bet('ev_bet_conflict', newRound(), [[1, 10]], { id: b.transaction_id }), 'R3', 90);
    await expectEvent(gw, bet('ev_bet_conflict_other', round, [[1, 10]], { id: b.transaction_id }), 'R3', 100);
    await expectEvent(gw, { ...cancel('ev_bet_conflict', round, [[1, 10]]), transaction_id: b.transaction_id }, 'R3', 90);

    expect(await ledgerState(gw)).toEqual(after);
    expect(await balanceOf(gw, 'ev_bet_conflict')).toBe(9000n);
    expect(await balanceOf(gw, 'ev_bet_conflict_other')).toBe(10000n);
  });

  it('insufficient funds: R4 with the current balance, recorded as refused, nothing debited', async () => {
    await gw.fund('ev_bet_poor', { USD: '30.49' });
    const before = await ledgerState(gw);
    const round = newRound();
    const b = bet('ev_bet_poor', round, [
      [1, 10.5],
      [2, 20],
    ]);
    await expectEvent(gw, b, 'R4', 30.49);
    await expectEvent(gw, b, 'R4', 30.49); // a repeat answers the original refusal
    expect(await balanceOf(gw, 'ev_bet_poor')).toBe(3049n);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    expect((await ledgerState(gw)).transfers).toBe(before.transfers);
    expect(await linesOf(gw, round)).toEqual([]);
    expect((await transactionsOf(gw, 'ev_bet_poor')).map((t) => [t.status, t.refusal, t.moved])).toEqual([['refused', 'insufficient_funds', null]]);
    await expectReconciled(gw);
  });

  it('a currency the player has no wallet in: R3, nothing changes', async () => {
    await gw.fund('ev_bet_cur', { USD: '100' });
    const before = await ledgerState(gw);
    await expectEvent(gw, bet('ev_bet_cur', newRound(), [[1, 10]], { currency: 'EUR' }), 'R3');
    await expectEvent(gw, bet('ev_bet_cur', newRound(), [[1, 10]], { currency: 'XYZ' }), 'R3'); // not a currency at all
    expect(await ledgerState(gw)).toEqual(before);
    expect(await balanceOf(gw, 'ev_bet_cur')).toBe(10000n);
  });

  it('an unknown player: R3, nothing changes', async () => {
    const before = await ledgerState(gw);
    await expectEvent(gw, bet('ev_bet_nobody', newRound(), [[1, 10]]), 'R3');
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a blocked player cannot bet: R3, nothing debited', async () => {
    await gw.fund('ev_bet_blocked', { USD: '100' });
    await block(gw, 'ev_bet_blocked');
    const before = await ledgerState(gw);
    const round = newRound();
    await expectEvent(gw, bet('ev_bet_blocked', round, [[1, 10]]), 'R3', 100);
    expect(await balanceOf(gw, 'ev_bet_blocked')).toBe(10000n);
    expect((await ledgerState(gw)).transfers).toBe(before.transfers);
    expect(await linesOf(gw, round)).toEqual([]);
  });

  it('a second bet in a round: new indices are taken, an index already placed by another event is R3', async () => {
    await gw.fund('ev_bet_round', { USD: '100' });
    const round = newRound();
    const first = bet('ev_bet_round', round, [
      [1, 10],
      [2, 20],
    ]);
    await expectEvent(gw, first, 'R0', 70);
    const second = bet('ev_bet_round', round, [[3, 5]]);
    await expectEvent(gw, second, 'R0', 65);

    const after = await ledgerState(gw);
    const clash = bet('ev_bet_round', round, [
      [4, 1],
      [2, 20],
    ]);
    await expectEvent(gw, clash, 'R3', 65);
    expect(await balanceOf(gw, 'ev_bet_round')).toBe(6500n);
    expect((await ledgerState(gw)).accounts).toEqual(after.accounts);
    expect((await ledgerState(gw)).transfers).toBe(after.transfers);
    expect((await linesOf(gw, round)).map((l) => [l.ref, l.external_id])).toEqual([
      ['1', first.transaction_id],
      ['2', first.transaction_id],
      ['3', second.transaction_id],
    ]);
    await expectReconciled(gw);
  });

  it('the same bet event repeated with other bet lines (same total) is R3 and changes nothing', async () => {
    await gw.fund('ev_bet_lines_conflict', { USD: '100' });
    const round = newRound();
    const b = bet('ev_bet_lines_conflict', round, [
      [1, 10],
      [2, 20],
    ]);
    await expectEvent(gw, b, 'R0', 70);
    const after = await ledgerState(gw);
    const other = bet('ev_bet_lines_conflict', round, [[3, 30]], { id: b.transaction_id });
    await expectEvent(gw, other, 'R3', 70);
    expect(await ledgerState(gw)).toEqual(after);
  });

  it('two players at one live table bet in the same round, with the same bet index, independently', async () => {
    await gw.fund('ev_table_a', { USD: '100' });
    await gw.fund('ev_table_b', { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_table_a', round, [[1, 10]]), 'R0', 90);
    await expectEvent(gw, bet('ev_table_b', round, [[1, 25]]), 'R0', 75);
    expect(await balanceOf(gw, 'ev_table_a')).toBe(9000n);
    expect(await balanceOf(gw, 'ev_table_b')).toBe(7500n);
    await expectReconciled(gw);
  });
});

describe('bet_cancel', () => {
  it('refunds bet lines by index: one, then the other; repeats and re-cancels refund nothing', async () => {
    await gw.fund('ev_cancel', { USD: '100' });
    const round = newRound();
    const b = bet('ev_cancel', round, [
      [1, 10.5],
      [2, 20],
    ]);
    await expectEvent(gw, b, 'R0', 69.5);

    const first = cancel('ev_cancel', round, [[1, 10.5]]);
    await expectEvent(gw, first, 'R0', 80);
    expect(await balanceOf(gw, 'ev_cancel')).toBe(8000n);
    expect(await cancelsOf(gw, round)).toEqual([{ ref: '1', refunded: true, cancel: first.transaction_id }]);

    const second = cancel('ev_cancel', round, [[2, 20]]);
    await expectEvent(gw, second, 'R0', 100);
    expect(await balanceOf(gw, 'ev_cancel')).toBe(10000n);

    // The same cancel event again: R0, no second refund.
    const settled = await ledgerState(gw);
    await expectEvent(gw, first, 'R0', 100);
    await expectEvent(gw, second, 'R0', 100);
    expect(await ledgerState(gw)).toEqual(settled);

    // A new cancel event naming an index already cancelled: R0, refunds nothing.
    const again = cancel('ev_cancel', round, [[1, 10.5]]);
    await expectEvent(gw, again, 'R0', 100);
    expect(await balanceOf(gw, 'ev_cancel')).toBe(10000n);
    expect((await ledgerState(gw)).accounts).toEqual(settled.accounts);

    expect(await cancelsOf(gw, round)).toEqual([
      { ref: '1', refunded: true, cancel: first.transaction_id },
      { ref: '2', refunded: true, cancel: second.transaction_id },
    ]);
    const refunds = (await transactionsOf(gw, 'ev_cancel')).filter((t) => t.kind === 'refund');
    expect(refunds.map((t) => [t.external_id, t.status, t.moved])).toEqual([
      [first.transaction_id, 'applied', 1050n],
      [second.transaction_id, 'applied', 2000n],
      [again.transaction_id, 'applied', 0n],
    ]);
    await expectReconciled(gw);
  });

  it('one cancel event naming both lines refunds them both', async () => {
    await gw.fund('ev_cancel_all', { USD: '50' });
    const round = newRound();
    await expectEvent(
      gw,
      bet('ev_cancel_all', round, [
        [7, 1.01],
        [8, 2.02],
      ]),
      'R0',
      46.97,
    );
    await expectEvent(
      gw,
      cancel('ev_cancel_all', round, [
        [8, 2.02],
        [7, 1.01],
      ]),
      'R0',
      50,
    );
    expect(await balanceOf(gw, 'ev_cancel_all')).toBe(5000n);
    await expectReconciled(gw);
  });

  it('a cancel naming an unknown round/index: R0, nothing moves; the bet arriving later is refused (R3), never debited', async () => {
    await gw.fund('ev_cancel_first', { USD: '100' });
    const round = newRound();
    const before = await ledgerState(gw);
    const early = cancel('ev_cancel_first', round, [[1, 10]]);
    await expectEvent(gw, early, 'R0', 100);
    await expectEvent(gw, early, 'R0', 100); // its repeat too
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    expect((await ledgerState(gw)).transfers).toBe(before.transfers);
    expect(await cancelsOf(gw, round)).toEqual([{ ref: '1', refunded: false, cancel: early.transaction_id }]);

    const late = bet('ev_cancel_first', round, [[1, 10]]);
    await expectEvent(gw, late, 'R3', 100);
    await expectEvent(gw, late, 'R3', 100); // and stays refused
    expect(await balanceOf(gw, 'ev_cancel_first')).toBe(10000n);
    expect((await ledgerState(gw)).transfers).toBe(before.transfers);
    expect(await linesOf(gw, round)).toEqual([]);
    expect((await transactionsOf(gw, 'ev_cancel_first')).map((t) => [t.external_id, t.kind, t.status])).toEqual([
      [early.transaction_id, 'refund', 'refused'],
      [late.transaction_id, 'debit', 'refused'],
    ]);
    await expectReconciled(gw);
  });

  it('a cancel naming an index not yet placed in a known round: R0; that bet arriving later is refused', async () => {
    await gw.fund('ev_cancel_idx', { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cancel_idx', round, [[1, 10]]), 'R0', 90);
    await expectEvent(gw, cancel('ev_cancel_idx', round, [[2, 5]]), 'R0', 90);
    await expectEvent(gw, bet('ev_cancel_idx', round, [[2, 5]]), 'R3', 90);
    expect(await balanceOf(gw, 'ev_cancel_idx')).toBe(9000n);
    expect((await linesOf(gw, round)).map((l) => l.ref)).toEqual(['1']);
    await expectReconciled(gw);
  });

  it('a cancel whose bet_amount differs from the placed line: R3, nothing moves', async () => {
    await gw.fund('ev_cancel_amount', { USD: '100' });
    const round = newRound();
    await expectEvent(
      gw,
      bet('ev_cancel_amount', round, [
        [1, 10],
        [2, 20],
      ]),
      'R0',
      70,
    );
    const before = await ledgerState(gw);
    await expectEvent(gw, cancel('ev_cancel_amount', round, [[1, 15]]), 'R3', 70);
    expect(await ledgerState(gw)).toEqual(before);
    expect(await cancelsOf(gw, round)).toEqual([]);
    // The line can still be cancelled for its real amount.
    await expectEvent(gw, cancel('ev_cancel_amount', round, [[1, 10]]), 'R0', 80);
  });

  it('cancel lines not adding up to total_bet_cancel_amount, or naming an index twice: R3, nothing moves', async () => {
    await gw.fund('ev_cancel_sum', { USD: '100' });
    const round = newRound();
    await expectEvent(
      gw,
      bet('ev_cancel_sum', round, [
        [1, 10],
        [2, 20],
      ]),
      'R0',
      70,
    );
    const before = await ledgerState(gw);
    await expectEvent(
      gw,
      cancel(
        'ev_cancel_sum',
        round,
        [
          [1, 10],
          [2, 20],
        ],
        { total: 20 },
      ),
      'R3',
    );
    await expectEvent(
      gw,
      cancel('ev_cancel_sum', round, [
        [1, 10],
        [1, 10],
      ]),
      'R3',
    );
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a cancel of a bet refused for insufficient funds refunds nothing', async () => {
    await gw.fund('ev_cancel_refused', { USD: '5' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cancel_refused', round, [[1, 10]]), 'R4', 5);
    const before = await ledgerState(gw);
    await expectEvent(gw, cancel('ev_cancel_refused', round, [[1, 10]]), 'R0', 5);
    expect(await balanceOf(gw, 'ev_cancel_refused')).toBe(500n);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    await expectReconciled(gw);
  });

  it('a cancel for a blocked player is still refunded', async () => {
    await gw.fund('ev_cancel_blocked', { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cancel_blocked', round, [[1, 40]]), 'R0', 60);
    await block(gw, 'ev_cancel_blocked');
    await expectEvent(gw, cancel('ev_cancel_blocked', round, [[1, 40]]), 'R0', 100);
    expect(await balanceOf(gw, 'ev_cancel_blocked')).toBe(10000n);
  });

  it("one player's cancel never touches another player's bet in the same table round", async () => {
    await gw.fund('ev_cancel_owner', { USD: '100' });
    await gw.fund('ev_cancel_other', { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cancel_owner', round, [[1, 10]]), 'R0', 90);
    // For the other player the round holds no bet: nothing to refund (R0), and nothing moves.
    await expectEvent(gw, cancel('ev_cancel_other', round, [[1, 10]]), 'R0', 100);
    expect(await balanceOf(gw, 'ev_cancel_other')).toBe(10000n);
    expect(await balanceOf(gw, 'ev_cancel_owner')).toBe(9000n);
    // The owner's own cancel still refunds the owner's bet.
    await expectEvent(gw, cancel('ev_cancel_owner', round, [[1, 10]]), 'R0', 100);
    await expectReconciled(gw);
  });

  it('a cancel in another currency than the bet it names refunds nothing in that currency (R3)', async () => {
    // The player holds USD and EUR; the bet names EUR. A cancel of it naming USD must not refund USD
    // for EUR that was taken (wallet semantics: a cancel reverses the original; a currency that does
    // not match is refused).
    await gw.fund('ev_cancel_cur', { USD: '100', EUR: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cancel_cur', round, [[1, 10]], { currency: 'EUR' }), 'R0', 90);
    expect(await balanceOf(gw, 'ev_cancel_cur', 'EUR')).toBe(9000n);
    const before = await ledgerState(gw);
    await expectEvent(gw, cancel('ev_cancel_cur', round, [[1, 10]], { currency: 'USD' }), 'R3', 100);
    expect(await balanceOf(gw, 'ev_cancel_cur', 'USD')).toBe(10000n);
    expect(await balanceOf(gw, 'ev_cancel_cur', 'EUR')).toBe(9000n);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    await expectReconciled(gw);
  });
});

describe('concurrency (one player, one gateway, real locks)', () => {
  it('eight simultaneous copies of one bet event debit once, and every copy answers R0 with the balance after it', async () => {
    await gw.fund('ev_race_dup', { USD: '100' });
    const round = newRound();
    const b = bet('ev_race_dup', round, [
      [1, 4],
      [2, 6],
    ]);
    const replies = await Promise.all(Array.from({ length: 8 }, () => send(gw, b)));
    for (const reply of replies) {
      expect(reply.answer).toEqual(answerTo(b, 'R0', 90));
      expect(reply.status).toBe(200);
    }
    expect(await balanceOf(gw, 'ev_race_dup')).toBe(9000n);
    expect(await linesOf(gw, round)).toHaveLength(2);
    await expectReconciled(gw);
  });

  it('ten simultaneous bets of 15 on 100: six are taken, four are R4, the wallet never goes negative', async () => {
    await gw.fund('ev_race_many', { USD: '100' });
    const bets = Array.from({ length: 10 }, () => bet('ev_race_many', newRound(), [[1, 15]]));
    const replies = await Promise.all(bets.map((b) => send(gw, b)));
    const codes = replies.map((r) => r.answer.code);
    expect(codes.filter((c) => c === 'R0')).toHaveLength(6);
    expect(codes.filter((c) => c === 'R4')).toHaveLength(4);
    // Each taken bet answers the balance right after it: 85, 70, ..., 10 in some order.
    expect(replies.filter((r) => r.answer.code === 'R0').map((r) => r.answer.latest_balance).sort((a, b) => Number(b) - Number(a))).toEqual([85, 70, 55, 40, 25, 10]);
    for (const r of replies.filter((r) => r.answer.code === 'R4')) expect(r.answer.latest_balance).toBe(10);
    expect(await balanceOf(gw, 'ev_race_many')).toBe(1000n);
    await expectReconciled(gw);
  });
});
