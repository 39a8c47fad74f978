import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { bet, expectEvent, expectReconciled, ledgerState, newRound, result } from './helpers.ts';

/** Signed amounts (winloss) are decimal text: the sign belongs to its digits. */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('signed amounts', () => {
  it('a winloss of "- 5" (a sign apart from its digits) is not a decimal: R3, nothing moves', async () => {
    await gw.fund('au_sign_space', { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet('au_sign_space', round, [[1, 10]]), 'R0', 90);
    const before = await ledgerState(gw);
    const r = result('au_sign_space', round, 10, 0);
    const d = r.data as { total_winloss: unknown; bet_results: { winloss: unknown }[] };
    d.total_winloss = '- 5';
    d.bet_results[0]!.winloss = '- 5';
    await expectEvent(gw, r, 'R3');
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    // Written as a decimal, the same loss is read.
    d.total_winloss = '-5';
    d.bet_results[0]!.winloss = '-5';
    await expectEvent(gw, { ...r, transaction_id: `${r.transaction_id}-b` }, 'R0', 95);
    await expectReconciled(gw);
  });
});
