import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundKey } from '../../providers/event/inferred.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { balanceOf, bet, expectEvent, result } from './helpers.ts';

/** A round is (table_no, game_no): two pairs are two rounds, whatever characters they hold. */

describe('roundKey', () => {
  it("keeps a table without ':' or '%' as it always was", () => {
    expect(roundKey('T07', '123')).toBe('T07:123');
    expect(roundKey('T', '1:2')).toBe('T:1:2');
  });

  it('gives no two pairs one key', () => {
    const pairs: [string, string][] = [
      ['TX:1', '2'],
      ['TX', '1:2'],
      ['TX%3A1', '2'],
      ['TX%', '3A1:2'],
      ['TX:', '1:2'],
      ['TX', ':1:2'],
      ['%', ''],
      ['', '%'],
      ['%25', ''],
      [':', ''],
      ['', ':'],
    ];
    const keys = pairs.map(([t, g]) => roundKey(t, g));
    expect(new Set(keys).size).toBe(pairs.length);
  });
});

describe('rounds whose table and game numbers join alike', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('table "TX:1" game "2" and table "TX" game "1:2" are two rounds, each paid from its own stake', async () => {
    await gw.fund('ev_key_twin', { USD: '100' });
    const game = String(process.pid);
    const first = { table_no: `TX:${game}`, game_no: '2' };
    const second = { table_no: 'TX', game_no: `${game}:2` };
    await expectEvent(gw, bet('ev_key_twin', first, [[1, 10]]), 'R0', 90);
    await expectEvent(gw, bet('ev_key_twin', second, [[1, 20]]), 'R0', 70);
    // Each round's result names its own stake: the first's 10, the second's 20.
    await expectEvent(gw, result('ev_key_twin', first, 10, 10), 'R0', 90);
    await expectEvent(gw, result('ev_key_twin', second, 20, -20), 'R0', 90);
    expect(await balanceOf(gw, 'ev_key_twin')).toBe(9000n);
  });
});
