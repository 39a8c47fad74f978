import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { HouseAccounts, HOUSE_SLOTS } from '../../src/ledger/accounts.ts';
import { PgError, pgErrorCode } from '../../src/ledger/database.ts';
import { asCurrency } from '../../src/money/currency.ts';
import type { Minor } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome, type WalletOperation } from '../../src/wallet/types.ts';
import { Wallet, type Within } from '../../src/wallet/wallet.ts';
import { newCaptureId, WebhookHistory } from '../../src/webhooks/history.ts';
import { waitForLockWaiters } from '../support/db.ts';
import { fileLedger, fundedPlayer, usdBet } from './ledger.ts';

/**
 * Several players' operations that start together share one transaction (WALLET_GROUP_SIZE): each
 * keeps its own outcome, and whatever goes wrong in the group leaves every operation as it would
 * have ended alone.
 */
const USD = asCurrency('USD');
const PROVIDER = ProviderId('group-provider');

const ledger = fileLedger();

/** A wallet that groups, and its operations as the gateway runs an uncontended player's: without waiting for a held wallet. */
function grouped() {
  const wallet = new Wallet(ledger.db, new HouseAccounts(), { group: 16 });
  return {
    execute: <T = Outcome>(op: WalletOperation, within?: Within<T>): Promise<T> => wallet.execute(op, within as Within<T>, { nowait: true }),
    waiting: (op: WalletOperation): Promise<Outcome> => wallet.execute(op),
  };
}

const player = (code: string, funds: Minor) => fundedPlayer(ledger, code, funds);
type Player = Awaited<ReturnType<typeof player>>;

const bet = (who: PlayerCode, txId: string, amount: Minor, provider = PROVIDER): WalletOperation => usdBet(provider, who, txId, amount);

/** The database transaction each provider transaction was written in (its xmin). */
async function writtenIn(txIds: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await sql<{ external_id: string; xid: string }>`
    select external_id, xmin::text as xid from provider_transactions where external_id in (${sql.join(txIds)})`.execute(ledger.db);
  return new Map(rows.map((r) => [r.external_id, r.xid]));
}

const balance = async (who: PlayerCode) => ((await grouped().execute({ op: 'balance', player: who, currency: USD, requireActive: false })) as { balance: Minor }).balance;

describe('operations of several players started together', () => {
  it('share one transaction, each with its own outcome', async () => {
    const players = await Promise.all(['g-ann', 'g-ben', 'g-cat', 'g-dan'].map((code) => player(code, 1_000n)));
    const poor = await player('g-eve', 100n);
    const wallet = grouped();
    const outcomes = await Promise.all([...players.map((p) => wallet.execute(bet(p.code, `g1-${p.code}`, 300n))), wallet.execute(bet(poor.code, 'g1-eve', 500n))]);
    expect(outcomes).toEqual([
      ...players.map(() => ({ type: 'ok', balance: 700n, moved: true })),
      { type: 'refused', reason: 'insufficient_funds', balance: 100n },
    ]);
    const xids = await writtenIn([...players.map((p) => `g1-${p.code}`), 'g1-eve']);
    expect(xids.size).toBe(5);
    expect(new Set(xids.values()).size).toBe(1);
  });

  it('an operation that may wait for its wallet (a busy player, a retry) runs alone', async () => {
    const [pat, quin] = await Promise.all([player('g-pat', 1_000n), player('g-quin', 1_000n)]);
    const wallet = grouped();
    await Promise.all([wallet.execute(bet(pat.code, 'g7-pat', 100n)), wallet.waiting(bet(quin.code, 'g7-quin', 100n))]);
    const xids = await writtenIn(['g7-pat', 'g7-quin']);
    expect(xids.size).toBe(2);
    expect(xids.get('g7-pat')).not.toBe(xids.get('g7-quin'));
  });

  it("one player's second operation started with the first does not join its group", async () => {
    const fay = await player('g-fay', 1_000n);
    const gus = await player('g-gus', 1_000n);
    const wallet = grouped();
    const [first, second, other] = await Promise.allSettled([
      wallet.execute(bet(fay.code, 'g2-fay-1', 600n)),
      wallet.execute(bet(fay.code, 'g2-fay-2', 600n)),
      wallet.execute(bet(gus.code, 'g2-gus', 600n)),
    ]);
    expect(other).toEqual({ status: 'fulfilled', value: { type: 'ok', balance: 400n, moved: true } });
    // The two groups run at once, as two transactions do: one bet takes the wallet; the other finds
    // it held (and would queue for the player, as the gateway's calls do) or comes after and finds 400 left.
    const bets = [first, second];
    const taken = bets.filter((b) => b.status === 'fulfilled' && b.value.type === 'ok');
    expect(taken).toEqual([{ status: 'fulfilled', value: { type: 'ok', balance: 400n, moved: true } }]);
    const left = bets.find((b) => b !== taken[0])!;
    if (left.status === 'rejected') expect(pgErrorCode(left.reason)).toBe(PgError.lockNotAvailable);
    else expect(left.value).toEqual({ type: 'refused', reason: 'insufficient_funds', balance: 400n });
    expect(await balance(fay.code)).toBe(400n);
    const xids = await writtenIn(['g2-fay-1', 'g2-fay-2', 'g2-gus']);
    // A bet found busy wrote nothing; the others were written in their own group's transaction.
    if (xids.has('g2-fay-1')) expect(xids.get('g2-fay-1')).toBe(xids.get('g2-gus'));
    expect(xids.has('g2-fay-2') && xids.get('g2-fay-2') === xids.get('g2-gus')).toBe(false);
  });

  it('a wallet held by another transaction fails its operation alone (lock_not_available); the others commit', async () => {
    const hal = await player('g-hal', 1_000n);
    const ivy = await player('g-ivy', 1_000n);
    const wallet = grouped();
    let results: PromiseSettledResult<Outcome>[] = [];
    await ledger.db.transaction().execute(async (trx) => {
      await sql`select a.id from accounts a where a.player_id = ${hal.id} for update`.execute(trx);
      results = await Promise.allSettled([wallet.execute(bet(hal.code, 'g3-hal', 100n)), wallet.execute(bet(ivy.code, 'g3-ivy', 100n))]);
    });
    expect(results[0]!.status).toBe('rejected');
    expect(pgErrorCode((results[0] as PromiseRejectedResult).reason)).toBe(PgError.lockNotAvailable);
    expect(results[1]).toEqual({ status: 'fulfilled', value: { type: 'ok', balance: 900n, moved: true } });
    expect(await balance(hal.code)).toBe(1_000n);
    expect([...(await writtenIn(['g3-hal', 'g3-ivy'])).keys()]).toEqual(['g3-ivy']);
  });

  it("each call's history row, sent without waiting as the gateway sends it, commits in the group's transaction", async () => {
    const players = await Promise.all(['g-max', 'g-ned', 'g-oli'].map((code) => player(code, 1_000n)));
    const wallet = grouped();
    const history = new WebhookHistory(ledger.db);
    const stored: Promise<bigint>[] = [];
    const keep =
      (txId: string): Within<Outcome> =>
      async (trx, outcome) => {
        const row = history.recordIn(trx, {
          captureId: newCaptureId(),
          provider: PROVIDER,
          receivedAt: new Date(),
          source: 'vendor',
          headers: {},
          body: Buffer.from(txId),
          transactionId: txId,
          outcome: 'ok',
          durationMs: 1,
        });
        row.catch(() => undefined);
        stored.push(row);
        return outcome;
      };
    await Promise.all(players.map((p) => wallet.execute(bet(p.code, `g6-${p.code}`, 100n), keep(`g6-${p.code}`))));
    await Promise.all(stored);
    const { rows } = await sql<{ money: string; kept: string }>`
      select t.xmin::text as money, w.xmin::text as kept from provider_transactions t join webhooks w on w.transaction_id = t.external_id
      where t.external_id like 'g6-%'`.execute(ledger.db);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.money)).size).toBe(1);
    for (const row of rows) expect(row.kept).toBe(row.money);
  });

  it("the history rows of a group that rolls back after its answers are not kept: each call's row is written once, by its run alone", async () => {
    const players = await Promise.all(['g-pia', 'g-rex'].map((code) => player(code, 1_000n)));
    const wallet = grouped();
    const history = new WebhookHistory(ledger.db);
    const runs = new Map<string, number>();
    const stored = new Map<string, Promise<bigint>>();
    const keep =
      (txId: string, fail: boolean): Within<Outcome> =>
      async (trx, outcome) => {
        const n = (runs.get(txId) ?? 0) + 1;
        runs.set(txId, n);
        // As the gateway does: sent, not awaited (its id is known once the COMMIT is on its way).
        const row = history.recordIn(trx, { captureId: newCaptureId(), provider: PROVIDER, receivedAt: new Date(), source: 'vendor', headers: {}, body: Buffer.from(txId), transactionId: txId, outcome: 'ok', durationMs: 1 });
        row.catch(() => undefined);
        stored.set(txId, row);
        // The first time, something else sent in the transaction fails: the COMMIT rolls back, records and all.
        if (fail && n === 1) void sql`select 1 / 0`.execute(trx).catch(() => undefined);
        return outcome;
      };
    await Promise.all(players.map((p, i) => wallet.execute(bet(p.code, `g8-${p.code}`, 100n), keep(`g8-${p.code}`, i === 0))));
    const ids = await Promise.all([...stored.values()]);
    expect([...runs.values()]).toEqual([2, 2]);
    const { rows } = await sql<{ id: string; transaction_id: string }>`
      select id::text, transaction_id from webhooks where transaction_id like 'g8-%' order by transaction_id`.execute(ledger.db);
    expect(rows.map((r) => r.transaction_id)).toEqual(players.map((p) => `g8-${p.code}`).sort());
    expect(rows.map((r) => r.id).sort()).toEqual(ids.map(String).sort());
  });

  it('two groups that move money on the same two house rows take them in one order: neither deadlocks, neither runs again', async () => {
    // Four players at a provider no other test uses, on two house slots: ann and bob on slots 1 and
    // 2, cal and dee on slots 2 and 1. Each pair bets as one group, in that order.
    const provider = ProviderId('group-order-provider');
    const bySlot = new Map<bigint, { code: PlayerCode; id: bigint }[]>();
    for (let i = 0; [...bySlot.values()].filter((ps) => ps.length >= 2).length < 2; i++) {
      const p = await player(`g-order-${i}`, 1_000n);
      const slot = p.id % BigInt(HOUSE_SLOTS);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), p]);
    }
    const [[ann, dee], [bob, cal]] = [...bySlot.values()].filter((ps) => ps.length >= 2) as [[Player, Player], [Player, Player]];
    // The house rows exist (a first bet of each player creates them, alone).
    for (const p of [ann, bob, cal, dee]) expect((await grouped().waiting(bet(p.code, `g7-first-${p.code}`, 10n, provider))).type).toBe('ok');
    const groups: string[] = [];
    const observer = { grouped: (size: number, result: string) => void groups.push(`${size} ${result}`) };
    // Each wallet knows the house rows' ids already (as a running gateway does): the groups' only statements are the operations'.
    const houses = [new HouseAccounts(), new HouseAccounts()];
    for (const house of houses) for (const p of [ann, bob, ann, bob]) await house.idFor(ledger.db, { kind: 'game', provider, currency: USD }, p.id);
    const [one, two] = houses.map((house) => new Wallet(ledger.db, house, { group: 16, observer }));
    // The order that deadlocks when each transfer locks its house row as it is written: ann's slot
    // held elsewhere (as a transfer holds it); the first group waits for it, the second takes bob's
    // slot (cal's transfer) and queues for ann's (dee's); let go, the first group gets ann's slot
    // and needs bob's, which the second holds. Which of them the lock manager lets go first is not
    // fixed, so the pattern is played three times.
    for (const round of [1, 2, 3]) {
      const betting = (wallet: Wallet, ps: readonly Player[]) =>
        Promise.all(ps.map((p) => wallet.execute(bet(p.code, `g7-${round}-${p.code}`, 100n, provider), undefined, { nowait: true })));
      let first: Promise<Outcome[]> | undefined;
      let second: Promise<Outcome[]> | undefined;
      await ledger.db.transaction().execute(async (trx) => {
        await sql`select id from accounts where kind = 'game' and provider_id = ${provider} and slot = ${Number(ann.id % BigInt(HOUSE_SLOTS))} for no key update`.execute(trx);
        first = betting(one!, [ann, bob]);
        await waitForLockWaiters(ledger.db, 1);
        second = betting(two!, [cal, dee]);
        await waitForLockWaiters(ledger.db, 2);
      });
      const outcomes = [...(await first!), ...(await second!)];
      expect(outcomes).toEqual([1, 2, 3, 4].map(() => ({ type: 'ok', balance: 990n - 100n * BigInt(round), moved: true })));
    }
    expect(groups).toEqual(Array(6).fill('2 committed'));
  });

  it("with its connections all in use, operations wait for one in line, and those that waited together go as one group", async () => {
    const players = await Promise.all(['g-sam', 'g-tia', 'g-uma', 'g-vic'].map((code) => player(code, 1_000n)));
    const groups: string[] = [];
    const wallet = new Wallet(ledger.db, new HouseAccounts(), { group: 16, connections: 1, observer: { grouped: (size, result) => void groups.push(`${size} ${result}`) } });
    let letGo = () => {};
    const held = new Promise<void>((resolve) => (letGo = resolve));
    // The first holds the only connection until it is let go.
    const first = wallet.execute(bet(players[0]!.code, 'g9-first', 100n), async (_trx, outcome) => {
      await held;
      return outcome;
    }, { nowait: true });
    // The others arrive one by one, each in a turn of its own: alone, each would have been a group of one.
    const rest: Promise<Outcome>[] = [];
    for (const p of players.slice(1)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rest.push(wallet.execute(bet(p.code, `g9-${p.code}`, 100n), undefined, { nowait: true }));
    }
    expect(await writtenIn(players.slice(1).map((p) => `g9-${p.code}`))).toEqual(new Map()); // none started: all wait in line
    letGo();
    expect(await Promise.all([first, ...rest])).toEqual(players.map(() => ({ type: 'ok', balance: 900n, moved: true })));
    expect(groups).toEqual(['3 committed']);
    expect(new Set((await writtenIn(players.slice(1).map((p) => `g9-${p.code}`))).values()).size).toBe(1);
  });

  it('a race lost inside the group: it is rolled back and each operation runs again alone', async () => {
    const jo = await player('g-jo', 1_000n);
    const kim = await player('g-kim', 1_000n);
    const lea = await player('g-lea', 1_000n);
    const wallet = grouped();
    // Two players name one transaction id at one provider: in one transaction, the second insert fails.
    const outcomes = await Promise.all([wallet.execute(bet(jo.code, 'g4-same', 100n)), wallet.execute(bet(kim.code, 'g4-same', 100n)), wallet.execute(bet(lea.code, 'g4-lea', 100n))]);
    // Run again alone, one of the two takes the id (whichever commits first), the other is refused as a conflict.
    expect(outcomes.slice(0, 2).sort((x, y) => x.type.localeCompare(y.type))).toEqual([
      { type: 'ok', balance: 900n, moved: true },
      { type: 'refused', reason: 'conflict', balance: 1_000n },
    ]);
    expect(outcomes[2]).toEqual({ type: 'ok', balance: 900n, moved: true });
    const xids = await writtenIn(['g4-same', 'g4-lea']);
    expect(xids.get('g4-same')).not.toBe(xids.get('g4-lea'));
  });

  it("a failure after the answers (the COMMIT rolls back) runs every operation again alone, and forgets the house accounts the group created", async () => {
    // Two players on one house slot of a provider no other test uses: the group creates its game
    // account, and the second player's operation finds (and would remember) it inside the group.
    const provider = ProviderId('group-fresh-provider');
    const made: { code: PlayerCode; id: bigint }[] = [];
    let pair: [{ code: PlayerCode; id: bigint }, { code: PlayerCode; id: bigint }] | undefined;
    for (let i = 0; !pair; i++) {
      const p = await player(`g-slot-${i}`, 1_000n);
      const same = made.find((m) => m.id % BigInt(HOUSE_SLOTS) === p.id % BigInt(HOUSE_SLOTS));
      if (same) pair = [same, p];
      made.push(p);
    }
    const wallet = grouped();
    const runs = new Map<string, number>();
    const within =
      (code: string, fail: boolean): Within<Outcome> =>
      async (trx, outcome) => {
        const n = (runs.get(code) ?? 0) + 1;
        runs.set(code, n);
        // Like the history row: sent, not awaited; the first time it fails, and the COMMIT behind it rolls back.
        if (fail && n === 1) void sql`select 1 / 0`.execute(trx).catch(() => undefined);
        return outcome;
      };
    const [a, b] = pair;
    const outcomes = await Promise.all([
      wallet.execute(bet(a.code, 'g5-a', 200n, provider), within(a.code, true)),
      wallet.execute(bet(b.code, 'g5-b', 200n, provider), within(b.code, false)),
    ]);
    expect(outcomes).toEqual([
      { type: 'ok', balance: 800n, moved: true },
      { type: 'ok', balance: 800n, moved: true },
    ]);
    expect(runs).toEqual(new Map([[a.code, 2], [b.code, 2]]));
    const xids = await writtenIn(['g5-a', 'g5-b']);
    expect(xids.size).toBe(2);
    expect(xids.get('g5-a')).not.toBe(xids.get('g5-b'));
    // The game account the rolled-back group created is not remembered: later operations pay through the real one.
    const win = await wallet.execute({ op: 'credit', provider, player: a.code, currency: USD, txId: ExternalTxId('g5-a-win'), amount: 50n, roundId: 'round-g5-a' });
    expect(win).toEqual({ type: 'ok', balance: 850n, moved: true });
  });
});
