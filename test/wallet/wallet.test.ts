import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { asCurrency, type Currency } from '../../src/money/currency.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Check, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { fileLedger } from './ledger.ts';

const USD = asCurrency('USD');
const EUR = asCurrency('EUR');
const SCORPIO = ProviderId('scorpio-play');
const OTHER = ProviderId('slotcity');

// Whatever the tests did, the ledger they leave behind must reconcile.
const ledger = fileLedger();
let wallet: Wallet;
beforeAll(() => {
  wallet = new Wallet(ledger.db);
});

let playerSeq = 0;
/** A new player with a USD wallet (and any other currencies), funded through the cashier. */
async function newPlayer(funds: bigint, currencies: readonly Currency[] = [USD]): Promise<PlayerCode> {
  const code = PlayerCode(`player-${++playerSeq}`);
  const created = await ledger.backOffice.createPlayer(code, currencies);
  expect(created.ok).toBe(true);
  if (funds > 0n) {
    const deposit = await ledger.backOffice.cashier('deposit', code, USD, funds, `fund:${code}`);
    expect(deposit).toEqual({ ok: true, value: { balance: funds } });
  }
  return code;
}

async function balanceOf(code: PlayerCode, currency: Currency = USD): Promise<bigint> {
  const view = await ledger.backOffice.player(code);
  if (!view.ok) throw new Error(`no player ${code}`);
  const w = view.value.wallets.find((x) => x.currency.trim() === currency);
  if (!w) throw new Error(`no ${currency} wallet for ${code}`);
  return w.balance;
}

type MoneyExtra = Partial<Extract<WalletOperation, { op: 'debit' }>>;

const debit = (player: PlayerCode, txId: string, amount: bigint, extra: MoneyExtra = {}) =>
  wallet.execute({ op: 'debit', player, currency: USD, provider: SCORPIO, txId: ExternalTxId(txId), amount, roundId: 'round-1', ...extra });

const credit = (player: PlayerCode, txId: string, amount: bigint, extra: MoneyExtra = {}) =>
  wallet.execute({ op: 'credit', player, currency: USD, provider: SCORPIO, txId: ExternalTxId(txId), amount, roundId: 'round-1', ...extra });

const rollback = (player: PlayerCode, target: string, extra: { provider?: ProviderId; currency?: Currency } = {}) =>
  wallet.execute({ op: 'rollback', player, currency: extra.currency ?? USD, provider: extra.provider ?? SCORPIO, target: ExternalTxId(target) });

const status = (player: PlayerCode, txId: string, provider: ProviderId = SCORPIO) =>
  wallet.execute({ op: 'status', player, currency: USD, provider, txId: ExternalTxId(txId) });

/** Everything money-related in the database: to prove an operation changed nothing. */
async function ledgerState() {
  const { rows } = await sql<{ transfers: bigint; ptx: bigint; rollbacks: bigint; rounds: bigint; balances: string }>`
    select (select count(*) from transfers) as transfers,
           (select count(*) from provider_transactions) as ptx,
           (select count(*) from rollbacks) as rollbacks,
           (select count(*) from rounds) as rounds,
           (select string_agg(id || ':' || balance, ',' order by id) from accounts) as balances`.execute(ledger.db);
  return rows[0]!;
}

async function providerTx(provider: ProviderId, txId: string) {
  return ledger.db
    .selectFrom('provider_transactions')
    .selectAll()
    .where('provider_id', '=', provider)
    .where('external_id', '=', txId)
    .execute();
}

async function transferOf(provider: ProviderId, txId: string) {
  const { rows } = await sql<{ id: bigint; amount: bigint; kind: string }>`
    select t.id, t.amount, t.kind from provider_transactions p join transfers t on t.id = p.transfer_id
    where p.provider_id = ${provider} and p.external_id = ${txId}`.execute(ledger.db);
  return rows;
}

describe('idempotency (rule 1)', () => {
  it('a repeat with the same content answers duplicate with the current balance and changes nothing', async () => {
    const alice = await newPlayer(10_000n);
    expect(await debit(alice, 'idem-1', 2_500n)).toEqual({ type: 'ok', balance: 7_500n, moved: true });
    const before = await ledgerState();
    expect(await debit(alice, 'idem-1', 2_500n)).toEqual({ type: 'duplicate', balance: 7_500n });
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(7_500n);

    expect(await credit(alice, 'idem-2', 1_000n)).toEqual({ type: 'ok', balance: 8_500n, moved: true });
    expect(await credit(alice, 'idem-2', 1_000n)).toEqual({ type: 'duplicate', balance: 8_500n });
    expect(await balanceOf(alice)).toBe(8_500n);
    expect(await providerTx(SCORPIO, 'idem-1')).toHaveLength(1);
    expect(await providerTx(SCORPIO, 'idem-2')).toHaveLength(1);
  });

  it('a repeat with a different amount, player, round or kind is refused as a conflict and changes nothing', async () => {
    const alice = await newPlayer(10_000n);
    const bob = await newPlayer(10_000n);
    expect(await debit(alice, 'conf-1', 1_000n)).toEqual({ type: 'ok', balance: 9_000n, moved: true });
    const before = await ledgerState();

    expect(await debit(alice, 'conf-1', 1_001n)).toEqual({ type: 'refused', reason: 'conflict', balance: 9_000n });
    expect(await debit(bob, 'conf-1', 1_000n)).toEqual({ type: 'refused', reason: 'conflict', balance: 10_000n });
    expect(await debit(alice, 'conf-1', 1_000n, { roundId: 'round-2' })).toEqual({ type: 'refused', reason: 'conflict', balance: 9_000n });
    expect(await credit(alice, 'conf-1', 1_000n)).toEqual({ type: 'refused', reason: 'conflict', balance: 9_000n });

    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(9_000n);
    expect(await balanceOf(bob)).toBe(10_000n);
    const [row] = await providerTx(SCORPIO, 'conf-1');
    expect(row).toMatchObject({ amount: 1_000n, status: 'applied' });
  });

  it('a repeat of a win that pays another bet, or names another game, is refused as a conflict and changes nothing', async () => {
    const alice = await newPlayer(10_000n);
    expect(await debit(alice, 'conf-bet-a', 1_000n, { roundId: 'conf-round', game: 'dragons' })).toMatchObject({ type: 'ok' });
    expect(await debit(alice, 'conf-bet-b', 1_000n, { roundId: 'conf-round', game: 'dragons' })).toMatchObject({ type: 'ok' });
    const win = (against: string, game = 'dragons') =>
      wallet.execute({ op: 'credit', player: alice, currency: USD, provider: SCORPIO, txId: ExternalTxId('conf-win'), amount: 3_000n, roundId: 'conf-round', game, against: ExternalTxId(against) });
    expect(await win('conf-bet-a')).toEqual({ type: 'ok', balance: 11_000n, moved: true });
    const before = await ledgerState();
    expect(await win('conf-bet-b')).toEqual({ type: 'refused', reason: 'conflict', balance: 11_000n });
    expect(await win('conf-bet-a', 'pharaohs')).toEqual({ type: 'refused', reason: 'conflict', balance: 11_000n });
    expect(await debit(alice, 'conf-bet-a', 1_000n, { roundId: 'conf-round', game: 'pharaohs' })).toEqual({ type: 'refused', reason: 'conflict', balance: 11_000n });
    // The same content is still a repeat.
    expect(await win('conf-bet-a')).toEqual({ type: 'duplicate', balance: 11_000n });
    expect(await debit(alice, 'conf-bet-a', 1_000n, { roundId: 'conf-round', game: 'dragons' })).toEqual({ type: 'duplicate', balance: 11_000n });
    expect(await ledgerState()).toEqual(before);
  });

  it('the same transaction id at two providers are two independent transactions', async () => {
    const alice = await newPlayer(10_000n);
    expect(await debit(alice, 'shared-1', 1_000n)).toEqual({ type: 'ok', balance: 9_000n, moved: true });
    expect(await debit(alice, 'shared-1', 3_000n, { provider: OTHER })).toEqual({ type: 'ok', balance: 6_000n, moved: true });
    expect(await balanceOf(alice)).toBe(6_000n);
    // Rolling back one does not touch the other.
    expect(await rollback(alice, 'shared-1', { provider: OTHER })).toEqual({ type: 'ok', balance: 9_000n, moved: true });
    expect(await status(alice, 'shared-1', SCORPIO)).toEqual({ type: 'status', state: 'processed', balance: 9_000n });
    expect(await status(alice, 'shared-1', OTHER)).toEqual({ type: 'status', state: 'cancelled', balance: 9_000n });
    expect(await providerTx(SCORPIO, 'shared-1')).toHaveLength(1);
    expect(await providerTx(OTHER, 'shared-1')).toHaveLength(1);
  });
});

describe('rollbacks (rules 2, 3, 4)', () => {
  it('a rollback before its bet is remembered: the bet is refused as rolled back and never debited', async () => {
    const alice = await newPlayer(10_000n);
    expect(await rollback(alice, 'early-1')).toEqual({ type: 'refused', reason: 'target_not_found', balance: 10_000n });
    const marker = await ledger.db.selectFrom('rollbacks').selectAll().where('target_external_id', '=', 'early-1').execute();
    expect(marker).toHaveLength(1);
    expect(marker[0]).toMatchObject({ target_id: null, transfer_id: null });

    expect(await debit(alice, 'early-1', 1_000n)).toMatchObject({ type: 'refused', reason: 'rolled_back', balance: 10_000n });
    // ... and a repeat of that bet stays refused, still not debited.
    expect(await debit(alice, 'early-1', 1_000n)).toMatchObject({ type: 'refused', reason: 'rolled_back' });
    expect(await balanceOf(alice)).toBe(10_000n);
    expect(await transferOf(SCORPIO, 'early-1')).toEqual([]);
    expect(await status(alice, 'early-1')).toEqual({ type: 'status', state: 'cancelled', balance: 10_000n });
  });

  it('a rollback before its win is remembered: the win is refused as rolled back and never credited', async () => {
    const alice = await newPlayer(10_000n);
    expect(await rollback(alice, 'early-win-1')).toMatchObject({ type: 'refused', reason: 'target_not_found' });
    expect(await credit(alice, 'early-win-1', 5_000n)).toMatchObject({ type: 'refused', reason: 'rolled_back', balance: 10_000n });
    expect(await balanceOf(alice)).toBe(10_000n);
    expect(await transferOf(SCORPIO, 'early-win-1')).toEqual([]);
  });

  it('a second rollback of the same target is a duplicate and changes nothing', async () => {
    const alice = await newPlayer(10_000n);
    expect(await debit(alice, 'rb-1', 4_000n)).toEqual({ type: 'ok', balance: 6_000n, moved: true });
    expect(await rollback(alice, 'rb-1')).toEqual({ type: 'ok', balance: 10_000n, moved: true });
    const before = await ledgerState();
    expect(await rollback(alice, 'rb-1')).toEqual({ type: 'duplicate', balance: 10_000n });
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(10_000n);
    // The bet itself cannot come back either.
    expect(await debit(alice, 'rb-1', 4_000n)).toEqual({ type: 'duplicate', balance: 10_000n });
    expect(await balanceOf(alice)).toBe(10_000n);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from rollbacks r join transfers t on t.id = r.transfer_id where r.target_external_id = 'rb-1'`.execute(ledger.db);
    expect(rows[0]!.n).toBe(1);
  });

  it('a second rollback of a transaction never seen stays not found and changes nothing', async () => {
    const alice = await newPlayer(1_000n);
    expect(await rollback(alice, 'ghost-1')).toEqual({ type: 'refused', reason: 'target_not_found', balance: 1_000n });
    const before = await ledgerState();
    expect(await rollback(alice, 'ghost-1')).toMatchObject({ type: 'refused', reason: 'target_not_found' });
    expect(await ledgerState()).toEqual(before);
  });

  it('a debit refused for insufficient funds is recorded as refused, and its rollback refunds nothing', async () => {
    const alice = await newPlayer(500n);
    expect(await debit(alice, 'poor-1', 501n)).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 500n });
    const [row] = await providerTx(SCORPIO, 'poor-1');
    expect(row).toMatchObject({ status: 'refused', refusal: 'insufficient_funds', transfer_id: null, amount: 501n });

    const before = await ledgerState();
    expect(await rollback(alice, 'poor-1')).toEqual({ type: 'ok', balance: 500n, moved: false });
    const after = await ledgerState();
    expect(after.transfers).toBe(before.transfers);
    expect(after.balances).toBe(before.balances);
    expect(after.rollbacks).toBe(before.rollbacks + 1n);
    expect(await balanceOf(alice)).toBe(500n);
    // A second rollback of it: still nothing.
    expect(await rollback(alice, 'poor-1')).toEqual({ type: 'duplicate', balance: 500n });
    expect(await balanceOf(alice)).toBe(500n);
  });

  it('a repeat of a refused debit replays the refusal even after funds were added', async () => {
    const alice = await newPlayer(500n);
    expect(await debit(alice, 'poor-2', 800n)).toMatchObject({ type: 'refused', reason: 'insufficient_funds' });
    expect((await ledger.backOffice.cashier('deposit', alice, USD, 1_000n, `topup:${alice}`)).ok).toBe(true);
    expect(await debit(alice, 'poor-2', 800n)).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 1_500n, repeat: true });
    expect(await balanceOf(alice)).toBe(1_500n);
    expect(await transferOf(SCORPIO, 'poor-2')).toEqual([]);
    expect(await providerTx(SCORPIO, 'poor-2')).toHaveLength(1);
  });

  it('a rollback of a credit the player already spent is refused and changes nothing', async () => {
    const alice = await newPlayer(1_000n);
    // The win pays on a round that holds a stake.
    expect(await debit(alice, 'bet-before-spent', 1_000n)).toEqual({ type: 'ok', balance: 0n, moved: true });
    expect(await credit(alice, 'win-spent', 3_000n)).toEqual({ type: 'ok', balance: 3_000n, moved: true });
    expect(await debit(alice, 'bet-spent', 2_000n)).toEqual({ type: 'ok', balance: 1_000n, moved: true });
    const before = await ledgerState();
    expect(await rollback(alice, 'win-spent')).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 1_000n });
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(1_000n);
    expect(await status(alice, 'win-spent')).toMatchObject({ state: 'processed' });
  });

  it('a rollback of a credit the player still has takes it back', async () => {
    const alice = await newPlayer(2_000n);
    // The win pays on a round that holds a stake.
    expect(await debit(alice, 'bet-back', 1_000n)).toEqual({ type: 'ok', balance: 1_000n, moved: true });
    expect(await credit(alice, 'win-back', 3_000n)).toEqual({ type: 'ok', balance: 4_000n, moved: true });
    expect(await rollback(alice, 'win-back')).toEqual({ type: 'ok', balance: 1_000n, moved: true });
    expect(await balanceOf(alice)).toBe(1_000n);
    const { rows } = await sql<{ kind: string; amount: bigint }>`
      select t.kind, t.amount from rollbacks r join transfers t on t.id = r.transfer_id where r.target_external_id = 'win-back'`.execute(ledger.db);
    expect(rows).toEqual([{ kind: 'win_reversal', amount: 3_000n }]);
  });

  it('a refund the balance cannot hold (past the largest the ledger holds) is refused, never parked as a fault', async () => {
    // A currency of its own: the cashier's house account takes the other side of a deposit this large.
    const GBP = asCurrency('GBP');
    const rich = PlayerCode(`player-${++playerSeq}`);
    expect((await ledger.backOffice.createPlayer(rich, [GBP])).ok).toBe(true);
    expect((await ledger.backOffice.cashier('deposit', rich, GBP, 2n ** 63n - 1n - 2_000n, `fund:${rich}`)).ok).toBe(true);
    const op = { player: rich, currency: GBP, provider: SCORPIO, roundId: 'huge-1' };
    const lines = [{ ref: '1', amount: 300n }, { ref: '2', amount: 200n }];
    expect(await wallet.execute({ ...op, op: 'debit', txId: ExternalTxId('huge-bet'), amount: 500n, lines })).toMatchObject({ type: 'ok' });
    // A win brings the balance to 250 below the largest: neither the bet's 500 nor a line's 300 fits back.
    expect(await wallet.execute({ ...op, op: 'credit', txId: ExternalTxId('huge-win'), amount: 2_250n, stakeFree: true })).toMatchObject({ type: 'ok', balance: 2n ** 63n - 1n - 250n });
    const before = await ledgerState();
    const rollback = await wallet.execute({ ...op, op: 'rollback', target: ExternalTxId('huge-bet') });
    expect(rollback).toMatchObject({ type: 'refused', reason: 'inconsistent', detail: expect.stringContaining('past the largest') });
    const cancel = await wallet.execute({ ...op, op: 'cancel_bets', txId: ExternalTxId('huge-cancel'), amount: 300n, lines: [lines[0]!] });
    expect(cancel).toMatchObject({ type: 'refused', reason: 'inconsistent', detail: expect.stringContaining('past the largest') });
    expect(await ledgerState()).toEqual(before);
    // Once the player has spent, the same rollback refunds the bet: what was refused moved nothing.
    expect((await ledger.backOffice.cashier('withdrawal', rich, GBP, 1_000n, `out:${rich}`)).ok).toBe(true);
    expect(await wallet.execute({ ...op, op: 'rollback', target: ExternalTxId('huge-bet') })).toMatchObject({ type: 'ok', moved: true });
  });

  it('a rollback by a player who does not own the transaction is refused and changes nothing', async () => {
    const alice = await newPlayer(5_000n);
    const bob = await newPlayer(5_000n);
    expect(await debit(alice, 'owned-1', 1_000n)).toMatchObject({ type: 'ok' });
    const before = await ledgerState();
    expect(await rollback(bob, 'owned-1')).toMatchObject({ type: 'refused', reason: 'conflict' });
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(4_000n);
    expect(await balanceOf(bob)).toBe(5_000n);
  });
  it('a repeated rollback by another player is refused as a conflict, whether its target was seen or not', async () => {
    const alice = await newPlayer(5_000n);
    const bob = await newPlayer(5_000n);
    expect(await debit(alice, 'owned-2', 1_000n)).toMatchObject({ type: 'ok' });
    expect(await rollback(alice, 'owned-2')).toEqual({ type: 'ok', balance: 5_000n, moved: true });
    expect(await rollback(alice, 'ghost-owned')).toMatchObject({ type: 'refused', reason: 'target_not_found' });
    const before = await ledgerState();
    expect(await rollback(bob, 'owned-2')).toEqual({ type: 'refused', reason: 'conflict', balance: 5_000n });
    expect(await rollback(bob, 'ghost-owned')).toEqual({ type: 'refused', reason: 'conflict', balance: 5_000n });
    expect(await ledgerState()).toEqual(before);
    // Its own player's repeat is still a repeat.
    expect(await rollback(alice, 'owned-2')).toEqual({ type: 'duplicate', balance: 5_000n });
  });

  it("a rollback that names no currency reverses its target in the target's currency", async () => {
    const alice = await newPlayer(10_000n, [USD, EUR]);
    expect((await ledger.backOffice.cashier('deposit', alice, EUR, 2_000n, `eur-rb:${alice}`)).ok).toBe(true);
    expect(await wallet.execute({ op: 'debit', player: alice, currency: EUR, provider: SCORPIO, txId: ExternalTxId('eur-rb-bet'), amount: 500n, roundId: 'r' })).toMatchObject({ type: 'ok', balance: 1_500n });
    // The dialect's rollback names no currency: the adapter's guess (USD) is not the bet's.
    const unnamed = () => wallet.execute({ op: 'rollback', player: alice, currency: USD, currencyUnnamed: true, provider: SCORPIO, target: ExternalTxId('eur-rb-bet') });
    expect(await unnamed()).toEqual({ type: 'ok', balance: 2_000n, moved: true, currency: EUR });
    expect(await balanceOf(alice, EUR)).toBe(2_000n);
    expect(await balanceOf(alice, USD)).toBe(10_000n);
    expect(await unnamed()).toEqual({ type: 'duplicate', balance: 2_000n, currency: EUR });
    // One that names its currency is still held to it.
    expect(await wallet.execute({ op: 'debit', player: alice, currency: EUR, provider: SCORPIO, txId: ExternalTxId('eur-rb-bet-2'), amount: 500n, roundId: 'r' })).toMatchObject({ type: 'ok' });
    expect(await rollback(alice, 'eur-rb-bet-2')).toMatchObject({ type: 'refused', reason: 'conflict' });
    // A target never seen: remembered in the guessed currency's wallet, answered in it.
    expect(await wallet.execute({ op: 'rollback', player: alice, currency: USD, currencyUnnamed: true, provider: SCORPIO, target: ExternalTxId('eur-rb-ghost') })).toEqual({
      type: 'refused',
      reason: 'target_not_found',
      balance: 10_000n,
    });
  });
});

describe('peek', () => {
  it('reads the balance as last committed, and says nothing of a wallet that does not exist', async () => {
    const player = await newPlayer(5_000n);
    expect(await wallet.peek(player, USD)).toBe(5_000n);
    expect(await debit(player, 'peek-bet', 1_200n)).toMatchObject({ type: 'ok' });
    expect(await wallet.peek(player, USD)).toBe(3_800n);
    expect(await wallet.peek(player, EUR)).toBeUndefined();
    expect(await wallet.peek(PlayerCode('nobody-at-all'), USD)).toBeUndefined();
  });
});

describe('money movements', () => {
  it('a win without a bet is refused (no_stake) and moves nothing; it is kept as a round refusal, not a transaction', async () => {
    const alice = await newPlayer(1_000n);
    const before = await ledgerState();
    const refusal = { type: 'refused', reason: 'no_stake', balance: 1_000n, detail: 'the round took no stake' };
    expect(await credit(alice, 'free-win', 1_234n, { roundId: 'never-bet' })).toEqual(refusal);
    // A repeat is refused the same way, and still moves nothing.
    expect(await credit(alice, 'free-win', 1_234n, { roundId: 'never-bet' })).toEqual(refusal);
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(1_000n);
    expect(await providerTx(SCORPIO, 'free-win')).toEqual([]);
    expect(await transferOf(SCORPIO, 'free-win')).toEqual([]);
    const kept = await ledger.db
      .selectFrom('round_refusals')
      .select(['round_external_id', 'operation', 'reason', 'detail'])
      .where('provider_id', '=', SCORPIO)
      .where('external_id', '=', 'free-win')
      .execute();
    expect(kept).toEqual([{ round_external_id: 'never-bet', operation: 'credit', reason: 'no_stake', detail: 'the round took no stake' }]);

    // Not a transaction: once the round holds a stake, the same win is paid.
    expect(await debit(alice, 'free-win-bet', 100n, { roundId: 'never-bet' })).toEqual({ type: 'ok', balance: 900n, moved: true });
    expect(await credit(alice, 'free-win', 1_234n, { roundId: 'never-bet' })).toEqual({ type: 'ok', balance: 2_134n, moved: true });
    expect(await transferOf(SCORPIO, 'free-win')).toEqual([expect.objectContaining({ amount: 1_234n, kind: 'win' })]);
  });

  it('a win on a round whose every bet was cancelled is refused (no_stake) and moves nothing', async () => {
    const alice = await newPlayer(1_000n);
    expect(await debit(alice, 'gone-bet', 300n, { roundId: 'round-gone' })).toEqual({ type: 'ok', balance: 700n, moved: true });
    expect(await rollback(alice, 'gone-bet')).toEqual({ type: 'ok', balance: 1_000n, moved: true });
    const before = await ledgerState();
    expect(await credit(alice, 'gone-win', 500n, { roundId: 'round-gone' })).toMatchObject({ type: 'refused', reason: 'no_stake', balance: 1_000n });
    expect(await ledgerState()).toEqual(before);
    expect(await providerTx(SCORPIO, 'gone-win')).toEqual([]);
    expect(await balanceOf(alice)).toBe(1_000n);
  });

  it('a stake-free win without a bet (bonus, free bet, promotion) is paid, as a promo_win', async () => {
    const alice = await newPlayer(0n);
    const paid = await wallet.execute({
      op: 'credit',
      stakeFree: true,
      player: alice,
      currency: USD,
      provider: SCORPIO,
      txId: ExternalTxId('promo-win'),
      amount: 1_234n,
      roundId: 'never-bet',
    });
    expect(paid).toEqual({ type: 'ok', balance: 1_234n, moved: true });
    expect(await balanceOf(alice)).toBe(1_234n);
    expect(await transferOf(SCORPIO, 'promo-win')).toEqual([expect.objectContaining({ amount: 1_234n, kind: 'promo_win' })]);
    expect(await providerTx(SCORPIO, 'promo-win')).toEqual([expect.objectContaining({ status: 'applied', amount: 1_234n })]);
  });

  it('a zero credit (a lost round) is applied and recorded as a transfer of 0', async () => {
    const alice = await newPlayer(1_000n);
    expect(await debit(alice, 'zero-bet', 400n)).toEqual({ type: 'ok', balance: 600n, moved: true });
    expect(await credit(alice, 'zero-win', 0n)).toEqual({ type: 'ok', balance: 600n, moved: true });
    expect(await transferOf(SCORPIO, 'zero-win')).toEqual([expect.objectContaining({ amount: 0n, kind: 'win' })]);
    expect(await providerTx(SCORPIO, 'zero-win')).toEqual([expect.objectContaining({ status: 'applied', amount: 0n })]);
    expect(await balanceOf(alice)).toBe(600n);
  });

  it('betting the exact balance is allowed and leaves 0; one more minor unit is refused', async () => {
    const alice = await newPlayer(2_500n);
    expect(await debit(alice, 'exact-1', 2_500n)).toEqual({ type: 'ok', balance: 0n, moved: true });
    expect(await balanceOf(alice)).toBe(0n);
    expect(await debit(alice, 'exact-2', 1n)).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 0n });
    expect(await balanceOf(alice)).toBe(0n);
  });

  it('a bet moves money from the player to the provider game account, a win back', async () => {
    const alice = await newPlayer(5_000n);
    expect(await debit(alice, 'dir-bet', 700n)).toMatchObject({ type: 'ok', balance: 4_300n });
    expect(await credit(alice, 'dir-win', 200n)).toMatchObject({ type: 'ok', balance: 4_500n });
    const { rows } = await sql<{ external_id: string; from_kind: string; to_kind: string; to_provider: string | null; from_provider: string | null }>`
      select p.external_id, d.kind as from_kind, c.kind as to_kind, d.provider_id as from_provider, c.provider_id as to_provider
      from provider_transactions p join transfers t on t.id = p.transfer_id
      join accounts d on d.id = t.debit_account_id join accounts c on c.id = t.credit_account_id
      where p.external_id in ('dir-bet', 'dir-win') order by p.external_id`.execute(ledger.db);
    expect(rows).toEqual([
      { external_id: 'dir-bet', from_kind: 'player', to_kind: 'game', from_provider: null, to_provider: 'scorpio-play' },
      { external_id: 'dir-win', from_kind: 'game', to_kind: 'player', from_provider: 'scorpio-play', to_provider: null },
    ]);
  });
});

describe('players and currencies (rule 7)', () => {
  it('a blocked player cannot bet, but wins and rollbacks are still paid', async () => {
    const alice = await newPlayer(10_000n);
    expect(await debit(alice, 'blk-bet-1', 3_000n)).toEqual({ type: 'ok', balance: 7_000n, moved: true });
    expect(await debit(alice, 'blk-bet-3', 1_000n, { roundId: 'round-blk' })).toEqual({ type: 'ok', balance: 6_000n, moved: true });
    expect((await ledger.backOffice.setStatus(alice, 'blocked')).ok).toBe(true);

    expect(await debit(alice, 'blk-bet-2', 1_000n)).toMatchObject({ type: 'refused', reason: 'player_blocked' });
    expect(await transferOf(SCORPIO, 'blk-bet-2')).toEqual([]);
    expect(await balanceOf(alice)).toBe(6_000n);

    expect(await credit(alice, 'blk-win-1', 500n, { roundId: 'round-blk' })).toEqual({ type: 'ok', balance: 6_500n, moved: true });
    expect(await rollback(alice, 'blk-bet-1')).toEqual({ type: 'ok', balance: 9_500n, moved: true });
    expect(await balanceOf(alice)).toBe(9_500n);

    // Reads still work unless the dialect asks for an active player.
    expect(await wallet.execute({ op: 'balance', player: alice, currency: USD, requireActive: false })).toEqual({ type: 'ok', balance: 9_500n, moved: false });
    expect(await wallet.execute({ op: 'authenticate', player: alice, currency: USD, requireActive: true })).toMatchObject({ type: 'refused', reason: 'player_blocked' });
  });

  it('an operation in a currency the player has no wallet in is refused as a currency mismatch', async () => {
    const alice = await newPlayer(10_000n);
    const before = await ledgerState();
    expect(await wallet.execute({ op: 'debit', player: alice, currency: EUR, provider: SCORPIO, txId: ExternalTxId('eur-1'), amount: 100n, roundId: 'r' })).toEqual({
      type: 'refused',
      reason: 'currency_mismatch',
    });
    expect(await wallet.execute({ op: 'credit', player: alice, currency: EUR, provider: SCORPIO, txId: ExternalTxId('eur-2'), amount: 100n, roundId: 'r' })).toMatchObject({
      type: 'refused',
      reason: 'currency_mismatch',
    });
    expect(await wallet.execute({ op: 'balance', player: alice, currency: EUR, requireActive: false })).toMatchObject({ type: 'refused', reason: 'currency_mismatch' });
    expect(await ledgerState()).toEqual(before);
    expect(await balanceOf(alice)).toBe(10_000n);
  });

  it('a player with wallets in two currencies is debited only in the named one', async () => {
    const alice = await newPlayer(10_000n, [USD, EUR]);
    expect((await ledger.backOffice.cashier('deposit', alice, EUR, 2_000n, `eur:${alice}`)).ok).toBe(true);
    expect(await wallet.execute({ op: 'debit', player: alice, currency: EUR, provider: OTHER, txId: ExternalTxId('eur-bet'), amount: 500n, roundId: 'r' })).toEqual({
      type: 'ok',
      balance: 1_500n,
      moved: true,
    });
    expect(await balanceOf(alice, EUR)).toBe(1_500n);
    expect(await balanceOf(alice, USD)).toBe(10_000n);
  });

  it('an unknown player is refused and nothing is recorded', async () => {
    const before = await ledgerState();
    const nobody = PlayerCode('nobody-at-all');
    expect(await debit(nobody, 'nobody-1', 100n)).toEqual({ type: 'refused', reason: 'unknown_player' });
    expect(await credit(nobody, 'nobody-2', 100n)).toEqual({ type: 'refused', reason: 'unknown_player' });
    expect(await rollback(nobody, 'nobody-1')).toEqual({ type: 'refused', reason: 'unknown_player' });
    expect(await wallet.execute({ op: 'authenticate', player: nobody, currency: USD, requireActive: false })).toEqual({ type: 'refused', reason: 'unknown_player' });
    expect(await ledgerState()).toEqual(before);
  });
});

describe('check precedence', () => {
  it('a duplicate with insufficient balance reports duplicate by default, insufficient funds when funds come first', async () => {
    const alice = await newPlayer(1_000n);
    expect(await debit(alice, 'prec-1', 800n)).toEqual({ type: 'ok', balance: 200n, moved: true });
    const before = await ledgerState();
    expect(await debit(alice, 'prec-1', 800n)).toEqual({ type: 'duplicate', balance: 200n });
    const fundsFirst: Check[] = ['funds', 'unique'];
    expect(await debit(alice, 'prec-1', 800n, { precedence: fundsFirst })).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 200n });
    // Either way nothing moved and the original transaction is untouched.
    expect(await ledgerState()).toEqual(before);
    expect(await providerTx(SCORPIO, 'prec-1')).toEqual([expect.objectContaining({ status: 'applied', amount: 800n })]);
  });

  it('a blocked player with insufficient funds is reported as blocked by default, as short of funds when funds come first', async () => {
    const alice = await newPlayer(100n);
    expect((await ledger.backOffice.setStatus(alice, 'blocked')).ok).toBe(true);
    expect(await debit(alice, 'prec-2', 500n)).toMatchObject({ type: 'refused', reason: 'player_blocked' });
    expect(await debit(alice, 'prec-3', 500n, { precedence: ['funds'] })).toMatchObject({ type: 'refused', reason: 'insufficient_funds' });
    expect(await balanceOf(alice)).toBe(100n);
  });
});

describe('status', () => {
  it('reports processed, cancelled, refused and unknown', async () => {
    const alice = await newPlayer(1_000n);
    const bob = await newPlayer(1_000n);
    expect(await debit(alice, 'st-ok', 100n)).toMatchObject({ type: 'ok' });
    expect(await debit(alice, 'st-cancel', 100n)).toMatchObject({ type: 'ok' });
    expect(await rollback(alice, 'st-cancel')).toMatchObject({ type: 'ok', moved: true });
    expect(await debit(alice, 'st-refused', 5_000n)).toMatchObject({ type: 'refused', reason: 'insufficient_funds' });

    const before = await ledgerState();
    expect(await status(alice, 'st-ok')).toEqual({ type: 'status', state: 'processed', balance: 900n });
    expect(await status(alice, 'st-cancel')).toEqual({ type: 'status', state: 'cancelled', balance: 900n });
    expect(await status(alice, 'st-refused')).toEqual({ type: 'status', state: 'refused', balance: 900n });
    expect(await status(alice, 'st-never')).toEqual({ type: 'status', state: 'unknown', balance: 900n });
    // Another player's transaction is not theirs to ask about.
    expect(await status(bob, 'st-ok')).toEqual({ type: 'status', state: 'unknown', balance: 1_000n });
    // Status reads only.
    expect(await ledgerState()).toEqual(before);
  });
});

describe('vendor context', () => {
  it('keeps the round and the details with the transaction', async () => {
    const alice = await newPlayer(1_000n);
    const outcome: Outcome = await debit(alice, 'ctx-1', 100n, { roundId: 'round-ctx', details: { game_code: 'g1', call_id: '7' } });
    expect(outcome).toMatchObject({ type: 'ok' });
    const { rows } = await sql<{ round: string; details: unknown; code: string }>`
      select r.external_id as round, p.details, pl.code from provider_transactions p
      join rounds r on r.id = p.round_id join players pl on pl.id = r.player_id
      where p.external_id = 'ctx-1'`.execute(ledger.db);
    expect(rows).toEqual([{ round: 'round-ctx', details: { game_code: 'g1', call_id: '7' }, code: alice }]);
  });
});
