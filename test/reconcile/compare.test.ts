import { describe, expect, it } from 'vitest';
import type { VendorRecord } from '../../src/gateway/vendor-api.ts';
import { compare, type LedgerRollback, type LedgerTransaction } from '../../src/reconcile/compare.ts';

/**
 * The comparison itself, on hand-made records: the cases the simulated vendors rarely produce. A
 * lost round's win of 0 that the vendor then cancels moves no money; the demo found that the vendor
 * does not list such a cancel while the wallet records the rollback, and reported two findings about
 * nothing. A cancel that moves money is still matched and reported as before.
 */

const at = new Date('2026-12-04T10:30:00Z');
const period = { from: new Date('2026-12-04T10:00:00Z'), to: new Date('2026-12-04T11:00:00Z') };
const owner = { players: new Map([['u1', 'alice']]), currency: 'USD' };
const bet = (id: string, amount: bigint): VendorRecord => ({ id, kind: 'bet', user: 'u1', round: 'r1', amount, at });
const win = (id: string, amount: bigint): VendorRecord => ({ id, kind: 'win', user: 'u1', round: 'r1', amount, at });
const cancel = (amount: bigint): VendorRecord => ({ id: `c-${amount}`, kind: 'cancel', user: 'u1', round: 'r1', amount, at });
const tx = (id: string, kind: 'debit' | 'credit', amount: bigint, rolledBack = false): LedgerTransaction => ({
  id,
  kind,
  user: 'u1',
  player: 'alice',
  round: 'r1',
  amount,
  currency: 'USD',
  applied: true,
  rolledBack,
  at,
});
const rollback = (target: string, amount: bigint): LedgerRollback => ({ target, round: 'r1', user: 'u1', player: 'alice', amount, currency: 'USD', at });
const kinds = (c: ReturnType<typeof compare>) => c.findings.map((f) => `${f.kind} ${f.key}`);

describe('comparing a vendor’s records with the ledger', () => {
  it('finds nothing in a cancelled win of 0, whether or not the vendor lists the cancel', () => {
    const ledger = [tx('b1', 'debit', 500n), tx('w1', 'credit', 0n, true)];
    const unlisted = compare([bet('b1', 500n), win('w1', 0n)], ledger, [rollback('w1', 0n)], period, owner);
    expect(kinds(unlisted)).toEqual([]);
    expect(unlisted.matched).toBe(2);
    const listed = compare([bet('b1', 500n), win('w1', 0n), cancel(0n)], ledger, [rollback('w1', 0n)], period, owner);
    expect(kinds(listed)).toEqual([]);
    expect(listed.matched).toBe(3);
    // The vendor lists a cancel of 0 the wallet never had: nothing moved either way.
    expect(kinds(compare([bet('b1', 500n), cancel(0n)], [tx('b1', 'debit', 500n)], [], period, owner))).toEqual([]);
  });

  it('still reports a cancel that moves money when only one side has it', () => {
    const ledger = [tx('b1', 'debit', 500n), tx('w1', 'credit', 700n, true)];
    expect(kinds(compare([bet('b1', 500n), win('w1', 700n)], ledger, [rollback('w1', 700n)], period, owner)).sort()).toEqual(['missing_at_vendor rollback:w1', 'status_mismatch w1']);
    expect(kinds(compare([bet('b1', 500n), win('w1', 700n), cancel(700n)], [tx('b1', 'debit', 500n), tx('w1', 'credit', 700n)], [], period, owner))).toEqual(['status_mismatch cancel:u1:r1:700']);
    expect(kinds(compare([bet('b1', 500n), win('w1', 700n), cancel(700n)], ledger, [rollback('w1', 700n)], period, owner))).toEqual([]);
  });

  it('names the casino’s player beside the vendor’s user code in what a finding says', () => {
    const lost = compare([bet('b1', 500n), win('w9', 900n)], [tx('b1', 'debit', 500n)], [], period, owner).findings;
    expect(lost.map((f) => [f.kind, f.player, f.detail])).toEqual([['missing_at_casino', 'alice', 'the vendor lists win w9 of 9.00 USD for user u1 (player alice); the wallet never applied it']]);
  });
});

describe('a vendor that lists a transaction twice', () => {
  it('is found: the vendor counts the money twice, the wallet moved it once', () => {
    const ledger = [tx('b1', 'debit', 500n), tx('w1', 'credit', 700n)];
    const twice = compare([bet('b1', 500n), bet('b1', 500n), win('w1', 700n)], ledger, [], period, owner);
    expect(kinds(twice)).toEqual(['amount_mismatch b1']);
    expect(twice.findings[0]!.detail).toBe('bet b1: the vendor lists it 2 times (10.00 USD in all), the wallet moved 5.00 USD once');
    expect(twice.matched).toBe(1);
  });

  it('reports a lost transaction listed twice once', () => {
    const lost = compare([bet('b1', 500n), win('w9', 900n), win('w9', 900n)], [tx('b1', 'debit', 500n)], [], period, owner);
    expect(kinds(lost)).toEqual(['missing_at_casino w9']);
    expect(lost.matched).toBe(1);
  });
});
