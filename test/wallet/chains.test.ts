import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { HouseAccounts } from '../../src/ledger/accounts.ts';
import { PgError, pgErrorCode } from '../../src/ledger/database.ts';
import { asCurrency } from '../../src/money/currency.ts';
import type { Minor } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import { chainable, Wallet, type Member } from '../../src/wallet/wallet.ts';
import { fileLedger, fundedPlayer, usdBet } from './ledger.ts';

/**
 * A busy player's queued operations run one after the other in one transaction
 * (Wallet.executeAll, WALLET_CHAIN_SIZE): each ends as it would have alone, after the ones before
 * it had committed, and whatever goes wrong leaves them as they would have ended alone.
 */
const USD = asCurrency('USD');
const EUR = asCurrency('EUR');
const SCORPIO = ProviderId('chain-scorpio');
const DOWINN = ProviderId('chain-dowinn');

const ledger = fileLedger();
const wallet = () => new Wallet(ledger.db, new HouseAccounts(), { group: 16 });

const bet = (who: PlayerCode, txId: string, amount: Minor, provider = SCORPIO, roundId?: string): WalletOperation => usdBet(provider, who, txId, amount, roundId);
const win = (who: PlayerCode, txId: string, amount: Minor, roundId: string, provider = SCORPIO): WalletOperation => ({ ...usdBet(provider, who, txId, amount, roundId), op: 'credit' });

/** The database transaction each provider transaction was written in (its xmin). */
async function writtenIn(txIds: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ external_id: string; xid: string }>`
    select external_id, xmin::text as xid from provider_transactions where external_id in (${sql.join(txIds)})`.execute(ledger.db);
  const xids = new Map(rows.map((r) => [r.external_id, r.xid]));
  return txIds.map((id) => xids.get(id) ?? 'none');
}

const balanceOf = async (who: PlayerCode) => ((await wallet().execute({ op: 'balance', player: who, currency: USD, requireActive: false })) as { balance: Minor }).balance;
const values = (settled: PromiseSettledResult<unknown>[]) => settled.map((s) => (s.status === 'fulfilled' ? s.value : `rejected: ${(s.reason as Error).message}`));

describe("one player's queued operations in one transaction", () => {
  it('each decides on the balance the ones before it left, at any vendor, and all commit together', async () => {
    const { code } = await fundedPlayer(ledger, 'c-ann', 1_000n);
    // Two earlier rounds to pay, then new bets: the second bet needs the first round's win.
    expect(await wallet().execute(bet(code, 'c1-open-a', 100n))).toMatchObject({ type: 'ok', balance: 900n });
    expect(await wallet().execute(bet(code, 'c1-open-b', 100n, DOWINN))).toMatchObject({ type: 'ok', balance: 800n });
    // Each bet needs the win before it at its vendor (the posts go vendor by vendor, see the next tests).
    const members: Member[] = [
      { op: win(code, 'c1-win-a', 500n, 'round-c1-open-a') },
      { op: bet(code, 'c1-bet-1', 1_200n) },
      // More than is left: refused, on the balance the two before it left.
      { op: bet(code, 'c1-bet-2', 200n, DOWINN) },
      { op: win(code, 'c1-win-b', 50n, 'round-c1-open-b', DOWINN) },
      { op: bet(code, 'c1-bet-3', 150n, DOWINN) },
    ];
    const settled = await wallet().executeAll(members, { nowait: true });
    expect(values(settled)).toEqual([
      { type: 'ok', balance: 1_300n, moved: true },
      { type: 'ok', balance: 100n, moved: true },
      { type: 'refused', reason: 'insufficient_funds', balance: 100n },
      { type: 'ok', balance: 150n, moved: true },
      { type: 'ok', balance: 0n, moved: true },
    ]);
    expect(await balanceOf(code)).toBe(0n);
    const xids = await writtenIn(['c1-win-a', 'c1-bet-1', 'c1-bet-2', 'c1-win-b', 'c1-bet-3']);
    expect(new Set(xids).size).toBe(1);
    expect(xids[0]).not.toBe('none');
  });

  it("each currency's wallet keeps its own balance through the chain, and each row is taken as the first was", async () => {
    const code = PlayerCode('c-fay');
    expect((await ledger.backOffice.createPlayer(code, [USD, EUR])).ok).toBe(true);
    for (const currency of [USD, EUR]) expect((await ledger.backOffice.cashier('deposit', code, currency, 1_000n, `fund:c-fay:${currency}`)).ok).toBe(true);
    const inEur = (op: WalletOperation): WalletOperation => ({ ...op, currency: EUR });
    const settled = await wallet().executeAll(
      [{ op: bet(code, 'c6-usd-1', 100n) }, { op: inEur(bet(code, 'c6-eur-1', 300n, DOWINN)) }, { op: bet(code, 'c6-usd-2', 50n) }, { op: inEur(bet(code, 'c6-eur-2', 800n, DOWINN)) }],
      { nowait: true },
    );
    expect(values(settled)).toEqual([
      { type: 'ok', balance: 900n, moved: true },
      { type: 'ok', balance: 700n, moved: true },
      { type: 'ok', balance: 850n, moved: true },
      { type: 'refused', reason: 'insufficient_funds', balance: 700n },
    ]);
    expect(new Set(await writtenIn(['c6-usd-1', 'c6-eur-1', 'c6-usd-2', 'c6-eur-2'])).size).toBe(1);

    // The EUR wallet held by another transaction: asked not to wait, the chain fails as a whole and writes nothing.
    const { id } = await ledger.db.selectFrom('players').select('id').where('code', '=', code).executeTakeFirstOrThrow();
    let failed: unknown;
    await ledger.db.transaction().execute(async (trx) => {
      await sql`select a.id from accounts a where a.player_id = ${id} and a.currency = 'EUR' for update`.execute(trx);
      failed = await wallet()
        .executeAll([{ op: bet(code, 'c6-usd-3', 10n) }, { op: inEur(bet(code, 'c6-eur-3', 10n, DOWINN)) }], { nowait: true })
        .then(() => undefined, (e: unknown) => e);
    });
    expect(pgErrorCode(failed)).toBe(PgError.lockNotAvailable);
    expect(await writtenIn(['c6-usd-3', 'c6-eur-3'])).toEqual(['none', 'none']);
  });

  it('a repeat of a transaction committed before is answered as one, in the chain', async () => {
    const { code } = await fundedPlayer(ledger, 'c-ben', 1_000n);
    await wallet().execute(bet(code, 'c2-first', 100n));
    const settled = await wallet().executeAll([{ op: bet(code, 'c2-second', 100n) }, { op: bet(code, 'c2-first', 100n) }, { op: bet(code, 'c2-third', 100n) }]);
    expect(values(settled)).toEqual([
      { type: 'ok', balance: 800n, moved: true },
      { type: 'duplicate', balance: 800n },
      { type: 'ok', balance: 700n, moved: true },
    ]);
    expect(await balanceOf(code)).toBe(700n);
  });

  it('a failure rolls the chain back, and each runs again alone, in order, with its answer run again', async () => {
    const { code } = await fundedPlayer(ledger, 'c-cat', 1_000n);
    let failures = 1;
    const answers: string[] = [];
    const answer = (name: string, fail = false) => async (_trx: unknown, outcome: Outcome) => {
      answers.push(name);
      // A history row that cannot be written, the first time only.
      if (fail && failures-- > 0) throw new Error('history row refused');
      return outcome;
    };
    const settled = await wallet().executeAll([
      { op: bet(code, 'c3-a', 100n), within: answer('a') },
      { op: bet(code, 'c3-b', 100n), within: answer('b', true) },
      { op: bet(code, 'c3-c', 100n), within: answer('c') },
    ]);
    expect(values(settled)).toEqual([
      { type: 'ok', balance: 900n, moved: true },
      { type: 'ok', balance: 800n, moved: true },
      { type: 'ok', balance: 700n, moved: true },
    ]);
    expect(answers).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    const xids = await writtenIn(['c3-a', 'c3-b', 'c3-c']);
    expect(new Set(xids).size).toBe(3);
    expect(await balanceOf(code)).toBe(700n);
  });

  it('a post that fails at the database (a bet the ledger cannot cover once the posts are ordered) reruns them alone', async () => {
    const { code } = await fundedPlayer(ledger, 'c-dan', 100n);
    await wallet().execute(bet(code, 'c4-open', 100n, DOWINN));
    // The win (at one vendor) funds the bet (at another): the posts go in the order of their house
    // accounts, and if the bet's goes first, the wallet would go negative and the database refuses it.
    // Either way each ends as it would have alone.
    const settled = await wallet().executeAll([{ op: win(code, 'c4-win', 300n, 'round-c4-open', DOWINN) }, { op: bet(code, 'c4-bet', 250n) }]);
    expect(values(settled)).toEqual([
      { type: 'ok', balance: 300n, moved: true },
      { type: 'ok', balance: 50n, moved: true },
    ]);
    expect(await balanceOf(code)).toBe(50n);
  });

  it("a wallet row another transaction holds, asked not to wait for it, fails the chain at once, and nothing is written", async () => {
    const { code, id } = await fundedPlayer(ledger, 'c-eve', 1_000n);
    let settled: Promise<PromiseSettledResult<unknown>[]> | undefined;
    await ledger.db.transaction().execute(async (trx) => {
      await sql`select a.id from accounts a where a.player_id = ${id} for update`.execute(trx);
      settled = wallet().executeAll([{ op: bet(code, 'c5-a', 100n) }, { op: bet(code, 'c5-b', 100n) }], { nowait: true });
      await settled.catch(() => {});
    });
    const error = await settled!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pgErrorCode(error)).toBe(PgError.lockNotAvailable);
    expect(await writtenIn(['c5-a', 'c5-b'])).toEqual(['none', 'none']);
    expect(await balanceOf(code)).toBe(1_000n);
  });
});

describe('which operations may share a chain', () => {
  const p = PlayerCode('c-any');
  it('bets, wins and results of one player in one currency, naming no transaction or round in common', () => {
    expect(chainable([bet(p, 'x1', 1n), bet(p, 'x2', 1n), win(p, 'x3', 1n, 'round-x0')])).toBe(true);
    // The same ids at two vendors are two transactions and two rounds.
    expect(chainable([bet(p, 'x1', 1n), bet(p, 'x1', 1n, DOWINN)])).toBe(true);
  });
  it('not a win on the round of a bet before it, a repeat of one, nor a win naming it', () => {
    expect(chainable([bet(p, 'x1', 1n), win(p, 'x2', 1n, 'round-x1')])).toBe(false);
    expect(chainable([bet(p, 'x1', 1n), bet(p, 'x1', 1n, SCORPIO, 'other')])).toBe(false);
    expect(chainable([bet(p, 'x1', 1n), { ...win(p, 'x2', 1n, 'round-x2'), against: ExternalTxId('x1') } as WalletOperation])).toBe(false);
  });
  it('in any of the player\'s currencies', () => {
    expect(chainable([bet(p, 'x1', 1n), { ...bet(p, 'x2', 1n), currency: EUR }])).toBe(true);
  });
  it('not another player, a rollback, a cancel of lines or a result change', () => {
    expect(chainable([bet(p, 'x1', 1n), bet(PlayerCode('c-other'), 'x2', 1n)])).toBe(false);
    expect(chainable([bet(p, 'x1', 1n), { op: 'rollback', provider: SCORPIO, target: ExternalTxId('x0'), player: p, currency: USD }])).toBe(false);
    expect(
      chainable([bet(p, 'x1', 1n), { op: 'cancel_bets', provider: SCORPIO, txId: ExternalTxId('x2'), roundId: 'r9', lines: [{ ref: 'l', amount: 1n }], amount: 1n, player: p, currency: USD }]),
    ).toBe(false);
  });
  it('a result naming no currency only alone: it may be applied in another wallet than it guessed', () => {
    const result: WalletOperation = {
      op: 'settle',
      provider: DOWINN,
      txId: ExternalTxId('x5'),
      roundId: 'r5',
      lines: [{ ref: '1', stake: 1n, winloss: 1n }],
      totals: { stake: 1n, winloss: 1n },
      player: p,
      currency: USD,
      currencyUnnamed: true,
    };
    expect(chainable([result])).toBe(true);
    expect(chainable([bet(p, 'x1', 1n), result])).toBe(false);
    expect(chainable([result, bet(p, 'x1', 1n)])).toBe(false);
    expect(chainable([bet(p, 'x1', 1n), { ...result, currencyUnnamed: false }])).toBe(true);
  });
});
