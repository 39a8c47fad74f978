import { beforeAll, describe, expect, it } from 'vitest';
import { asCurrency } from '../../src/money/currency.ts';
import { ExternalTxId, PlayerCode, ProviderId } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { fileLedger } from './ledger.ts';

const USD = asCurrency('USD');
const EUR = asCurrency('EUR');
const KRW = asCurrency('KRW');
const PROVIDER = ProviderId('scorpio-play');

// Whatever the tests did, the ledger they leave behind must reconcile.
const ledger = fileLedger();
let wallet: Wallet;
beforeAll(() => {
  wallet = new Wallet(ledger.db);
});

describe('players', () => {
  it('creates a player with one zero wallet per currency and refuses a second player with the same code', async () => {
    const created = await ledger.backOffice.createPlayer(PlayerCode('bo-1'), [USD, EUR, USD]);
    expect(created).toEqual({
      ok: true,
      value: { code: 'bo-1', status: 'active', wallets: [{ currency: 'EUR', balance: 0n }, { currency: 'USD', balance: 0n }] },
    });
    expect(await ledger.backOffice.createPlayer(PlayerCode('bo-1'), [KRW])).toEqual({ ok: false, reason: 'player_exists' });
    const view = await ledger.backOffice.player(PlayerCode('bo-1'));
    expect(view.ok && view.value.wallets.map((w) => w.currency)).toEqual(['EUR', 'USD']);
  });

  it('blocks and unblocks a player; an unknown player is reported', async () => {
    await ledger.backOffice.createPlayer(PlayerCode('bo-2'), [USD]);
    expect(await ledger.backOffice.setStatus(PlayerCode('bo-2'), 'blocked')).toMatchObject({ ok: true, value: { status: 'blocked' } });
    expect(await ledger.backOffice.setStatus(PlayerCode('bo-2'), 'active')).toMatchObject({ ok: true, value: { status: 'active' } });
    expect(await ledger.backOffice.setStatus(PlayerCode('bo-nobody'), 'blocked')).toEqual({ ok: false, reason: 'unknown_player' });
    expect(await ledger.backOffice.player(PlayerCode('bo-nobody'))).toEqual({ ok: false, reason: 'unknown_player' });
  });
});

describe('cashier', () => {
  it('deposits and withdraws; a repeat of a reference answers the original result without moving money', async () => {
    const code = PlayerCode('bo-3');
    await ledger.backOffice.createPlayer(code, [USD]);
    expect(await ledger.backOffice.cashier('deposit', code, USD, 10_000n, 'bo-3-dep')).toEqual({ ok: true, value: { balance: 10_000n } });
    expect(await ledger.backOffice.cashier('deposit', code, USD, 10_000n, 'bo-3-dep')).toEqual({ ok: true, value: { balance: 10_000n }, repeat: true });
    expect(await ledger.backOffice.cashier('withdrawal', code, USD, 4_000n, 'bo-3-wd')).toEqual({ ok: true, value: { balance: 6_000n } });
    expect(await ledger.backOffice.cashier('withdrawal', code, USD, 4_000n, 'bo-3-wd')).toEqual({ ok: true, value: { balance: 6_000n }, repeat: true });
    const view = await ledger.backOffice.player(code);
    expect(view.ok && view.value.wallets).toEqual([{ currency: 'USD', balance: 6_000n }]);
    const ops = await ledger.db.selectFrom('cashier_operations').select(['reference', 'amount']).where('reference', 'like', 'bo-3-%').orderBy('reference').execute();
    expect(ops).toEqual([
      { reference: 'bo-3-dep', amount: 10_000n },
      { reference: 'bo-3-wd', amount: 4_000n },
    ]);
  });

  it('refuses a reuse of a reference with other content, an overdraft, an unknown player and a missing wallet', async () => {
    const code = PlayerCode('bo-4');
    await ledger.backOffice.createPlayer(code, [USD]);
    await ledger.backOffice.createPlayer(PlayerCode('bo-4b'), [USD]);
    expect((await ledger.backOffice.cashier('deposit', code, USD, 1_000n, 'bo-4-dep')).ok).toBe(true);
    expect(await ledger.backOffice.cashier('deposit', code, USD, 1_001n, 'bo-4-dep')).toEqual({ ok: false, reason: 'conflict' });
    expect(await ledger.backOffice.cashier('withdrawal', code, USD, 1_000n, 'bo-4-dep')).toEqual({ ok: false, reason: 'conflict' });
    expect(await ledger.backOffice.cashier('deposit', PlayerCode('bo-4b'), USD, 1_000n, 'bo-4-dep')).toEqual({ ok: false, reason: 'conflict' });
    expect(await ledger.backOffice.cashier('withdrawal', code, USD, 1_001n, 'bo-4-wd')).toEqual({ ok: false, reason: 'insufficient_funds' });
    expect(await ledger.backOffice.cashier('deposit', PlayerCode('bo-nobody'), USD, 1n, 'bo-4-x')).toEqual({ ok: false, reason: 'unknown_player' });
    expect(await ledger.backOffice.cashier('deposit', code, EUR, 1n, 'bo-4-y')).toEqual({ ok: false, reason: 'currency_mismatch' });
    // The whole balance can be withdrawn.
    expect(await ledger.backOffice.cashier('withdrawal', code, USD, 1_000n, 'bo-4-all')).toEqual({ ok: true, value: { balance: 0n } });
    const other = await ledger.backOffice.player(PlayerCode('bo-4b'));
    expect(other.ok && other.value.wallets[0]!.balance).toBe(0n);
  });
});

describe('history', () => {
  it('lists every wallet movement newest first with its signed delta and cause, page by page', async () => {
    const code = PlayerCode('bo-5');
    await ledger.backOffice.createPlayer(code, [USD]);
    await ledger.backOffice.cashier('deposit', code, USD, 5_000n, 'bo-5-dep');
    const op = { player: code, currency: USD, provider: PROVIDER, roundId: 'bo-5-r' };
    expect(await wallet.execute({ op: 'debit', ...op, txId: ExternalTxId('bo-5-bet'), amount: 1_000n })).toMatchObject({ type: 'ok' });
    expect(await wallet.execute({ op: 'credit', ...op, txId: ExternalTxId('bo-5-win'), amount: 300n })).toMatchObject({ type: 'ok' });
    expect(await wallet.execute({ op: 'rollback', player: code, currency: USD, provider: PROVIDER, target: ExternalTxId('bo-5-win') })).toMatchObject({ type: 'ok', moved: true });
    await ledger.backOffice.cashier('withdrawal', code, USD, 200n, 'bo-5-wd');

    const all = await ledger.backOffice.history(code, { limit: 10 });
    if (!all.ok) throw new Error(all.reason);
    expect(all.value.map(({ kind, delta, provider, externalId, reference, currency }) => ({ kind, delta, provider, externalId, reference, currency }))).toEqual([
      { kind: 'withdrawal', delta: -200n, provider: null, externalId: null, reference: 'bo-5-wd', currency: 'USD' },
      { kind: 'win_reversal', delta: -300n, provider: 'scorpio-play', externalId: 'bo-5-win', reference: null, currency: 'USD' },
      { kind: 'win', delta: 300n, provider: 'scorpio-play', externalId: 'bo-5-win', reference: null, currency: 'USD' },
      { kind: 'bet', delta: -1_000n, provider: 'scorpio-play', externalId: 'bo-5-bet', reference: null, currency: 'USD' },
      { kind: 'deposit', delta: 5_000n, provider: null, externalId: null, reference: 'bo-5-dep', currency: 'USD' },
    ]);
    // The deltas add up to the balance.
    const view = await ledger.backOffice.player(code);
    expect(view.ok && view.value.wallets[0]!.balance).toBe(all.value.reduce((sum, e) => sum + e.delta, 0n));

    const first = await ledger.backOffice.history(code, { limit: 2 });
    if (!first.ok) throw new Error(first.reason);
    const second = await ledger.backOffice.history(code, { limit: 2, before: first.value.at(-1)!.transferId });
    const third = second.ok ? await ledger.backOffice.history(code, { limit: 2, before: second.value.at(-1)!.transferId }) : second;
    expect([first, second, third].flatMap((page) => (page.ok ? page.value.map((e) => e.transferId) : []))).toEqual(all.value.map((e) => e.transferId));
    expect(await ledger.backOffice.history(PlayerCode('bo-nobody'), { limit: 5 })).toEqual({ ok: false, reason: 'unknown_player' });
  });
});
