/**
 * The adapter conformance kit: the certification rules of docs/specs/wallet-semantics.md written
 * once, as scenarios against the wallet, and run against every dialect. A driver (one per dialect) only
 * says each step in its dialect and reads the answer back into a dialect-free reading; every scenario
 * asserts on money: wallet balances, the player's ledger movements, and reconcile after each scenario.
 *
 * Scenarios (rule of wallet-semantics.md):
 * - authenticate: login answers the balance; an unknown player is refused (operations table)
 * - idempotent repeat: a repeated bet or win changes nothing, answers with the current balance (1)
 * - conflicting repeat: the same id with another amount or round is refused, changes nothing (1)
 * - foreign rollback: a rollback naming another player's bet is refused; neither wallet moves (1)
 * - same id at two providers: ids are unique per provider; both apply, independently (1)
 * - shared round: two players betting on one round (a live table's game) are settled independently (1)
 * - rollback before bet: remembered; the late bet is refused and never debited (2)
 * - double rollback: a retried and a second rollback of one bet refund once (3)
 * - refused bet rollback: a bet refused for funds is recorded as refused; its rollback refunds nothing (4)
 * - win rollback: takes the win back, once; refused when it would make the wallet negative (operations)
 * - result without a stake: a win on a round that took no bet pays nothing, refused (11)
 * - result for a cancelled stake: a win on a round whose bet was rolled back pays nothing (11, 12)
 * - result for a refused stake: a win on a round whose bet was refused for funds pays nothing (11)
 * - stake-free win: a win the dialect marks as needing no stake (bonus, free bet, promotion) is paid,
 *   kept apart as a promotional win (11)
 * - zero win: accepted and recorded, balance unchanged (operations)
 * - exact balance bet: allowed, leaves 0 (operations)
 * - insufficient funds: refused with the current balance, recorded as refused; its retry after a
 *   deposit is still refused (operations, 1)
 * - blocked player: cannot bet; a win and a rollback are still paid (7)
 * - currency mismatch: a player without a wallet in the instance's currency: refused, nothing moves (7)
 * - concurrent duplicates: 20 copies of a bet, then of its rollback, at once: each applies once (5)
 * - concurrent bets: 40 bets of 1 on a balance of 20 at once, at two instances: exactly 20 succeed (5)
 * - concurrent mix: bets, their rollbacks and wins all at once end where any serial order ends (5)
 * - lock timeout: a wallet locked elsewhere gets an error answer within the time limit, not a hang (9)
 * Where the dialect itemises its rounds (bet lines, results per line, result changes; `driver.rounds`):
 * - inconsistent totals: a result whose totals are not the sum of its lines, or whose line loses more
 *   than its stake: refused, nothing moves, the refusal recorded with the claim (11, 14)
 * - stake not debited: a result claiming a larger stake than was debited, or naming a line never
 *   placed: refused (11)
 * - result for cancelled lines: refused; the lines still open are settled by a result naming them (11, 12)
 * - cancel after settlement: refused, the stake stays paid as settled (12)
 * - bet on a settled round: refused for good (12)
 * - second result: a round settles once; its correction is a result change (12)
 * - change before its result: settles with the corrected values; the late result pays nothing (13)
 * - changes out of order: a change that follows one not yet applied is refused, and applies when
 *   re-sent after it (13)
 * - changes by the vendor clock: a correction back to earlier figures (A -> B -> A) that arrives
 *   first settles the round; the result and the correction made before it pay nothing (13)
 * And for every dialect, by property:
 * - round orders: random rounds, their messages delivered in random orders with repeats (retries,
 *   some racing), end with the balance the in-order replay gives (13)

 * - bad credentials, undecryptable body, malformed body, negative amount, wrong types, unknown command,
 *   oversize body: the dialect's error, HTTP 200, no stack trace, the ledger untouched, and the same
 *   bet said properly still goes through afterwards (6)
 * - unstorable input: a NUL or an unpaired surrogate in a free-text field is applied on its merits;
 *   in an identifier, and a key named twice, refused as malformed; every call kept in the history
 *   with its body as sent, nothing parked (6, webhook history)
 * A driver can add scenarios only its dialect can say (`extras`), and must give a reason for each
 * scenario its dialect cannot say (`unsupported`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Currency } from '../../src/money/currency.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { formatAmount, type Minor } from '../../src/money/minor.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { dialects } from '../../providers/index.ts';
import type { Dialect } from '../../src/gateway/contract.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { roundOrders } from './orders.ts';

export const SCENARIOS = [
  'authenticate',
  'idempotent repeat',
  'conflicting repeat',
  'foreign rollback',
  'same id at two providers',
  'shared round',
  'rollback before bet',
  'double rollback',
  'refused bet rollback',
  'win rollback',
  'result without a stake',
  'result for a cancelled stake',
  'result for a refused stake',
  'result for a zero stake',
  'stake-free win',
  'zero win',
  'exact balance bet',
  'insufficient funds',
  'blocked player',
  'currency mismatch',
  'concurrent duplicates',
  'concurrent bets',
  'concurrent mix',
  'lock timeout',
  'inconsistent totals',
  'stake not debited',
  'result for cancelled lines',
  'cancel after settlement',
  'bet on a settled round',
  'second result',
  'change before its result',
  'changes out of order',
  'changes by the vendor clock',
  'round orders',
  'bad credentials',
  'undecryptable body',
  'malformed body',
  'negative amount',
  'wrong types',
  'unknown command',
  'oversize body',
  'unstorable input',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** The scenarios only a dialect that itemises its rounds can say: a driver without `rounds` gives one reason for all. */
export const ITEMISED_SCENARIOS = [
  'inconsistent totals',
  'stake not debited',
  'result for cancelled lines',
  'cancel after settlement',
  'bet on a settled round',
  'second result',
  'change before its result',
  'changes out of order',
  'changes by the vendor clock',
] as const satisfies readonly ScenarioName[];

/**
 * An answer, dialect-free. `repeat` is a dialect's "already processed" code; `refused` a refusal by the
 * wallet (unknown or blocked player, ...); `invalid` a validation error; `failed` a processing failure.
 */
export type Kind = 'ok' | 'repeat' | 'insufficient_funds' | 'refused' | 'unauthorized' | 'invalid' | 'not_found' | 'failed';

export interface Reading {
  kind: Kind;
  /** In minor units of the driver's currency, when the answer carries one. */
  balance?: Minor;
  /** The answer as plain text (decrypted where the dialect encrypts), checked for leaked internals. */
  text: string;
}

export interface Request {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
  /** The answer's headers, names in lower case (a dialect that signs its answers puts the signature there). */
  headers: Readonly<Record<string, string>>;
}

/** One entry of config/providers.json (secrets may be literal strings in the kit's config). */
export interface ProviderEntry {
  id: string;
  dialect: string;
  options: Record<string, unknown>;
}

/** A bet, win or rollback as the kit means it; amounts are decimal text in the driver's currency. */
export interface Money {
  player: string;
  txId: string;
  roundId: string;
  amount: string;
}

export interface WinMoney extends Money {
  /** What was bet on the round ("0" for a win without a bet): a dialect that settles by net result needs it. */
  stake: string;
  /** The bet it pays, where the script knows it: a dialect whose win names its bet names this one. */
  pays?: string;
}

/** A rollback names the bet or win it reverses; `id` is the rollback's own id, for a dialect whose cancel has one. */
export interface RollbackMoney extends Money {
  of: 'bet' | 'win';
  id: string;
}

/** One bet line of an itemised round: its name within the round and its stake (decimal text). */
export interface Line {
  ref: string;
  amount: string;
}

/** A bet of several lines on an itemised round, or a cancel naming some lines of it (with the cancel's own id). */
export interface RoundBet {
  player: string;
  txId: string;
  roundId: string;
  lines: readonly Line[];
}

/** A line's result: the stake the vendor states for it and its net win/loss (signed decimal text); `before` in a change. */
export interface LineOutcome {
  ref: string;
  stake: string;
  winloss: string;
  before?: string;
}

/** A result or result change of an itemised round; `totals`, when given, overrides the sums of the lines. */
export interface RoundResult {
  player: string;
  txId: string;
  roundId: string;
  lines: readonly LineOutcome[];
  totals?: { stake: string; winloss: string; before?: string };
  /** When the vendor made it (unix seconds): the driver's now when absent. */
  at?: number;
}

/** How a dialect that itemises its rounds says them. */
export interface RoundsDriver {
  bet(instance: string, bet: RoundBet): Awaitable<Request>;
  cancel(instance: string, cancel: RoundBet): Awaitable<Request>;
  /** The result that settles the round. */
  result(instance: string, result: RoundResult): Awaitable<Request>;
  /** A correction of the round's result: each line's `before` is what it corrects. */
  change(instance: string, change: RoundResult): Awaitable<Request>;
}

/**
 * Hostile variants of a bet: each request has one thing wrong with it and would move money if the
 * gateway took it. `bodyLimit` is the gateway's body limit in bytes.
 */
export type Hostile = (instance: string, bet: Money, bodyLimit: number) => Awaitable<Request[]>;

/** A dialect that encrypts builds its requests asynchronously. */
export type Awaitable<T> = T | Promise<T>;

/** How one dialect says the kit's scenarios: `export const driver` in providers/<dialect>/conformance.ts. */
export interface Driver {
  dialect: string;
  /** The dialect itself, when it is not (yet) listed in providers/index.ts (the template). */
  unregistered?: Dialect;
  currency: Currency;
  /** At least two instances of the dialect, in the driver's currency; the first is the default. */
  instances: readonly ProviderEntry[];
  /** The kind of answer the dialect gives a request it cannot read (malformed, unknown command, too large). */
  unreadable: Kind;
  login(instance: string, player: string, id: string): Awaitable<Request>;
  bet(instance: string, bet: Money): Awaitable<Request>;
  win(instance: string, win: WinMoney): Awaitable<Request>;
  rollback(instance: string, rollback: RollbackMoney): Awaitable<Request>;
  /** A win the dialect marks as needing no stake (a bonus call, a free bet, a promotion). */
  stakeFreeWin?(instance: string, win: Money): Awaitable<Request>;
  /** Where the dialect itemises its rounds; without it, `unsupported` gives the reason for ITEMISED_SCENARIOS. */
  rounds?: RoundsDriver;
  hostile: {
    badCredentials: Hostile;
    /** Only where the dialect encrypts. */
    undecryptable?: Hostile;
    malformed: Hostile;
    negativeAmount: Hostile;
    wrongTypes: Hostile;
    unknownCommand: Hostile;
    oversize: Hostile;
  };
  /** Bodies carrying what Postgres cannot store as it is (`text` holds a NUL or an unpaired surrogate). */
  unstorable: {
    /** The bet with `text` in a free-text field the dialect keeps (a game name, feedback data). */
    freeText(instance: string, bet: Money, text: string): Awaitable<Request>;
    /** The bet with `text` inside each of its identifiers in turn (transaction id, player, ...). */
    ids(instance: string, bet: Money, text: string): Awaitable<Request[]>;
    /** The bet with one of its keys named twice in one object, the two values different. */
    duplicateKey(instance: string, bet: Money): Awaitable<Request[]>;
  };
  read(instance: string, answer: HttpAnswer): Promise<Reading>;
  /** Scenarios the dialect cannot express, each with the reason. */
  unsupported?: Partial<Record<ScenarioName, string>>;
  /** Scenarios only this dialect can say. */
  extras?: Record<string, (kit: Kit) => Promise<void>>;
}

/** What a scenario works with: one gateway, the driver, fresh ids, and views of the ledger. */
export interface Kit {
  gw: TestGateway;
  driver: Driver;
  /** The driver's first and second instances. */
  a: string;
  b: string;
  player(tag: string): string;
  tx(): string;
  round(): string;
  /** Minor units as the decimal text a driver is given. */
  amount(minor: Minor): string;
  fund(player: string, minor: Minor, currency?: Currency): Promise<void>;
  /** Sends, asserts HTTP 200 and no leaked internals, and reads the answer. */
  send(instance: string, request: Awaitable<Request>): Promise<Reading>;
  balance(player: string, currency?: Currency): Promise<Minor>;
  /** The player's wallet movements that moved money, oldest first: "bet -1000". */
  moves(player: string): Promise<string[]>;
  /** The wallet's record of a provider transaction. */
  recorded(instance: string, txId: string): Promise<{ kind: string; status: string; amount: Minor } | undefined>;
  /** Every account balance and every ledger row count: equal before and after means nothing changed. */
  ledger(): Promise<unknown>;
  /** The round rule refusals recorded for a player: "reason (transaction id)", oldest first. */
  refusals(player: string): Promise<string[]>;
}

/** Scenarios that take longer than a test's default minute. */
const LONG: Partial<Record<ScenarioName, number>> = { 'round orders': 600_000 };

/** The strictest vendor time limit on record: bet and balance in the command dialect. */
export const ANSWER_LIMIT_MS = 2000;

/** Answers a refusal may take: a dialect without a code for it (a validation error) or whose code doubles as "already processed". */
export const REFUSAL: readonly Kind[] = ['refused', 'invalid'];
const CONFLICT: readonly Kind[] = ['refused', 'invalid', 'repeat'];
export const REPEAT: readonly Kind[] = ['ok', 'repeat'];
/** A rollback of a bet never seen: "not found", or success where nothing taken means the cancel is settled. */
export const NOT_FOUND: readonly Kind[] = ['not_found', 'ok'];
/** A win or result the round's stakes do not cover: refused, invalid, or "the bet it pays does not exist". */
export const NO_STAKE: readonly Kind[] = ['refused', 'invalid', 'not_found'];

const LEAK = /\w+Error\b|\bat \S+ \(|\.ts:\d+|node_modules/;

/** The kind is one of `kinds`; when `balance` is given the answer must carry exactly it. */
export function expectReading(reading: Reading, kinds: Kind | readonly Kind[], balance?: Minor): void {
  expect([kinds].flat(), `answer ${reading.text}`).toContain(reading.kind);
  if (balance !== undefined) expect(reading.balance, `balance in ${reading.text}`).toBe(balance);
}

/** A refusal: the kind is one of `kinds`; a balance, where the dialect gives one, is the current one. */
export function expectRefusal(reading: Reading, kinds: readonly Kind[], balance: Minor): void {
  expectReading(reading, kinds);
  if (reading.balance !== undefined) expect(reading.balance, `balance in ${reading.text}`).toBe(balance);
}

/**
 * The kit's scenarios for one driver: `scenarios` picks some of them (the round-order property runs
 * in a file of its own, test/conformance/orders.test.ts, so that its minutes overlap other files').
 */
/** Kits made in this process: each gets its own range of ids. */
let kitsMade = 0;

export function defineConformance(driver: Driver, scenarios: readonly ScenarioName[] = SCENARIOS): void {
  // The property runs in a file of its own (orders.test.ts): the run of every other scenario is the
  // whole certification, with the driver's extras and the check of its instances.
  const partial = SCENARIOS.some((name) => name !== 'round orders' && !scenarios.includes(name));
  describe(`conformance of the ${driver.dialect} dialect${partial ? `: ${scenarios.join(', ')}` : ''}`, () => {
    let gw: TestGateway;
    let dir: string;
    // Ids of this kit's own range: a driver may remember what it built (Hub88's driver keeps each
    // round's bets), and two kits of one driver in one process (vitest without isolation, a file
    // certifying twice) must not meet in that memory.
    let seq = ++kitsMade * 100_000_000;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), `croupier-conformance-${driver.dialect}-`));
      await writeFile(path.join(dir, 'providers.json'), JSON.stringify({ providers: driver.instances }));
      await writeFile(path.join(dir, 'demo.json'), JSON.stringify({ players: [] }));
      gw = await startTestGateway({ CONFIG_DIR: dir }, driver.unregistered ? [...dialects, driver.unregistered] : dialects);
    });
    afterAll(async () => {
      await gw?.close();
      await rm(dir, { recursive: true, force: true });
    });

    const kit = (): Kit => {
      const [first, second] = driver.instances;
      const cur = driver.currency;
      return {
        gw,
        driver,
        a: first!.id,
        b: second!.id,
        player: (tag) => `${tag.replaceAll(' ', '-')}-${++seq}`,
        tx: () => String(8_000_000 + ++seq),
        round: () => `round-${++seq}`,
        amount: (minor) => formatAmount(minor, cur),
        async fund(player, minor, currency = cur) {
          await gw.fund(player, { [currency]: formatAmount(minor, currency) });
        },
        async send(instance, pending) {
          const request = await pending;
          const res = await fetch(`${gw.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
          const answer = { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text(), headers: Object.fromEntries(res.headers) };
          expect(answer.status, answer.body).toBe(200);
          const reading = await driver.read(instance, answer);
          expect(reading.text).not.toMatch(LEAK);
          return reading;
        },
        async balance(player, currency = cur) {
          const view = await gw.backOffice.player(PlayerCode(player));
          if (!view.ok) throw new Error(`no player ${player}: ${view.reason}`);
          const wallet = view.value.wallets.find((w) => w.currency.trim() === currency);
          if (!wallet) throw new Error(`${player} has no ${currency} wallet`);
          return wallet.balance;
        },
        async moves(player) {
          const history = await gw.backOffice.history(PlayerCode(player), { limit: 500 });
          if (!history.ok) throw new Error(`no player ${player}: ${history.reason}`);
          return history.value
            .filter((e) => e.delta !== 0n)
            .reverse()
            .map((e) => `${e.kind} ${e.delta > 0n ? '+' : ''}${e.delta}`);
        },
        async recorded(instance, txId) {
          return gw.gateway.db
            .selectFrom('provider_transactions')
            .select(['kind', 'status', 'amount'])
            .where('provider_id', '=', instance)
            .where('external_id', '=', txId)
            .executeTakeFirst();
        },
        async ledger() {
          const accounts = await gw.gateway.db.selectFrom('accounts').select(['id', 'balance']).orderBy('id').execute();
          const { rows } = await sql<Record<string, string>>`
            select (select count(*) from transfers)::text as transfers,
              (select count(*) from provider_transactions)::text as provider_transactions,
              (select count(*) from rollbacks)::text as rollbacks,
              (select count(*) from rounds)::text as rounds,
              (select count(*) from bet_lines)::text as bet_lines,
              (select count(*) from line_cancels)::text as line_cancels,
              (select count(*) from player_sessions)::text as player_sessions,
              (select string_agg(state || ':' || coalesce(winloss::text, '-'), ',' order by id) from bet_lines) as line_states,
              (select string_agg(coalesce(settled_by::text, '-'), ',' order by id) from rounds) as round_states`.execute(gw.gateway.db);
          return { accounts: accounts.map((a) => `${a.id}=${a.balance}`), rows: rows[0] };
        },
        async refusals(player) {
          const { rows } = await sql<{ reason: string; external_id: string }>`
            select f.reason, f.external_id from round_refusals f join players p on p.id = f.player_id
            where p.code = ${player} order by f.id`.execute(gw.gateway.db);
          return rows.map((r) => `${r.reason} (${r.external_id})`);
        },
      };
    };

    if (!partial) {
      it('configures two or more instances of its dialect in its currency', () => {
        expect(driver.instances.length).toBeGreaterThanOrEqual(2);
        for (const instance of driver.instances) {
          expect(instance.dialect).toBe(driver.dialect);
          expect(instance.options.currency).toBe(driver.currency);
        }
        expect(gw.config.providers.map((p) => p.adapter.dialect)).toEqual(driver.instances.map(() => driver.dialect));
      });
    }

    for (const name of scenarios) {
      const reason = driver.unsupported?.[name];
      if (reason !== undefined) {
        it(`${name}: unsupported by the ${driver.dialect} dialect, with a documented reason`, () => {
          expect(reason.trim().length).toBeGreaterThan(30);
        });
        continue;
      }
      it(name, { timeout: LONG[name] ?? 60_000 }, () => reconciled(gw, () => SCENARIO[name](kit())));
    }

    for (const [name, scenario] of Object.entries(partial ? {} : (driver.extras ?? {}))) {
      it(`${name} (${driver.dialect} only)`, () => reconciled(gw, () => scenario(kit())));
    }

    it('leaves a ledger that reconciles', async () => {
      expect(await gw.reconcile()).toEqual([]);
    });
  });
}

/** Runs a scenario; the ledger invariants must hold after it (breaks an earlier scenario left are that one's failure). */
async function reconciled(gw: TestGateway, scenario: () => Promise<void>): Promise<void> {
  const earlier = (await gw.reconcile()).map((b) => JSON.stringify(b));
  await scenario();
  expect((await gw.reconcile()).filter((b) => !earlier.includes(JSON.stringify(b)))).toEqual([]);
}

/** A bet or win of `minor` for `player`, with fresh ids. */
const money = (k: Kit, player: string, minor: Minor, roundId = k.round()): Money => ({ player, txId: k.tx(), roundId, amount: k.amount(minor) });

const bet = (k: Kit, m: Money, instance = k.a) => k.send(instance, k.driver.bet(instance, m));
const win = (k: Kit, m: Money, stake: Minor, instance = k.a) => k.send(instance, k.driver.win(instance, { ...m, stake: k.amount(stake) }));
const rollback = (k: Kit, of: 'bet' | 'win', m: Money, id = k.tx(), instance = k.a) => k.send(instance, k.driver.rollback(instance, { ...m, of, id }));

const rounds = (k: Kit): RoundsDriver => k.driver.rounds!;
const line = (k: Kit, ref: string, minor: Minor): Line => ({ ref, amount: k.amount(minor) });
const outcome = (k: Kit, ref: string, stake: Minor, winloss: Minor, before?: Minor): LineOutcome => ({
  ref,
  stake: k.amount(stake),
  winloss: k.amount(winloss),
  ...(before !== undefined ? { before: k.amount(before) } : {}),
});
const roundBet = (k: Kit, player: string, roundId: string, lines: Line[]): RoundBet => ({ player, txId: k.tx(), roundId, lines });
const roundResult = (k: Kit, player: string, roundId: string, lines: LineOutcome[]): RoundResult => ({ player, txId: k.tx(), roundId, lines });

async function funded(k: Kit, tag: string, minor: Minor): Promise<string> {
  const player = k.player(tag);
  await k.fund(player, minor);
  return player;
}

function limitBytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit);
  if (!m) throw new Error(`body limit ${limit}`);
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2]!.toLowerCase() as 'b' | 'kb' | 'mb'];
}

/** Sends every hostile variant of a bet: none may change the ledger, and the bet said properly still goes through. */
function hostile(pick: (d: Driver) => Hostile | undefined, kinds: (d: Driver) => readonly Kind[]) {
  return async (k: Kit) => {
    const build = pick(k.driver);
    if (!build) throw new Error(`the ${k.driver.dialect} driver neither builds this scenario nor marks it unsupported`);
    const p = await funded(k, 'hostile', 10_000n);
    const m = money(k, p, 1_000n);
    const requests = await build(k.a, m, limitBytes(k.gw.config.http.bodyLimit));
    expect(requests.length).toBeGreaterThan(0);
    const before = await k.ledger();
    for (const request of requests) expectReading(await k.send(k.a, request), kinds(k.driver));
    expect(await k.ledger()).toEqual(before);
    expectReading(await bet(k, m), 'ok', 9_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000']);
  };
}

const SCENARIO: Record<ScenarioName, (k: Kit) => Promise<void>> = {
  async authenticate(k) {
    const p = await funded(k, 'login', 4_250n);
    expectReading(await k.send(k.a, k.driver.login(k.a, p, k.tx())), 'ok', 4_250n);
    expectReading(await k.send(k.a, k.driver.login(k.a, k.player('nobody'), k.tx())), REFUSAL);
    expect(await k.balance(p)).toBe(4_250n);
    expect(await k.moves(p)).toEqual(['deposit +4250']);
  },

  async 'idempotent repeat'(k) {
    const p = await funded(k, 'repeat', 10_000n);
    const b = money(k, p, 1_000n);
    const w = money(k, p, 2_500n, b.roundId);
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectReading(await bet(k, b), REPEAT, 9_000n);
    expectReading(await win(k, w, 1_000n), 'ok', 11_500n);
    expectReading(await win(k, w, 1_000n), REPEAT, 11_500n);
    // A repeat answers the balance as it is now, not as it was when the original was applied.
    expectReading(await bet(k, b), REPEAT, 11_500n);
    expect(await k.balance(p)).toBe(11_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +2500']);
  },

  async 'conflicting repeat'(k) {
    const p = await funded(k, 'conflict', 10_000n);
    const b = money(k, p, 1_000n);
    const w = money(k, p, 500n, b.roundId);
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectRefusal(await bet(k, { ...b, amount: k.amount(2_000n) }), CONFLICT, 9_000n);
    expectRefusal(await bet(k, { ...b, roundId: k.round() }), CONFLICT, 9_000n);
    expectReading(await win(k, w, 1_000n), 'ok', 9_500n);
    expectRefusal(await win(k, { ...w, amount: k.amount(5_000n) }, 1_000n), CONFLICT, 9_500n);
    expect(await k.balance(p)).toBe(9_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +500']);
  },

  async 'foreign rollback'(k) {
    const owner = await funded(k, 'owner', 10_000n);
    const other = await funded(k, 'other', 10_000n);
    const b = money(k, owner, 1_000n);
    expectReading(await bet(k, b), 'ok', 9_000n);
    // Refused, or "not found": for the other player it names no transaction of theirs.
    expectRefusal(await rollback(k, 'bet', { ...b, player: other }), [...CONFLICT, 'not_found'], 10_000n);
    expect(await k.balance(owner)).toBe(9_000n);
    expect(await k.balance(other)).toBe(10_000n);
    expectReading(await rollback(k, 'bet', b), 'ok', 10_000n);
    expect(await k.moves(owner)).toEqual(['deposit +10000', 'bet -1000', 'bet_refund +1000']);
    expect(await k.moves(other)).toEqual(['deposit +10000']);
  },

  async 'same id at two providers'(k) {
    const p = await funded(k, 'two-providers', 10_000n);
    const atA = money(k, p, 1_000n);
    const atB = { ...atA, amount: k.amount(3_000n) };
    expectReading(await bet(k, atA, k.a), 'ok', 9_000n);
    expectReading(await bet(k, atB, k.b), 'ok', 6_000n);
    expectReading(await bet(k, atA, k.a), REPEAT, 6_000n);
    expectReading(await bet(k, atB, k.b), REPEAT, 6_000n);
    // Rolling back the id at one provider refunds that provider's bet only.
    expectReading(await rollback(k, 'bet', atA, k.tx(), k.a), 'ok', 7_000n);
    expect(await k.balance(p)).toBe(7_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -3000', 'bet_refund +1000']);
  },

  async 'shared round'(k) {
    const first = await funded(k, 'seat-1', 10_000n);
    const second = await funded(k, 'seat-2', 10_000n);
    const roundId = k.round();
    const b1 = money(k, first, 1_000n, roundId);
    const b2 = money(k, second, 2_000n, roundId);
    expectReading(await bet(k, b1), 'ok', 9_000n);
    expectReading(await bet(k, b2), 'ok', 8_000n);
    expectReading(await win(k, money(k, first, 1_500n, roundId), 1_000n), 'ok', 10_500n);
    expectReading(await rollback(k, 'bet', b2), 'ok', 10_000n);
    expect(await k.moves(first)).toEqual(['deposit +10000', 'bet -1000', 'win +1500']);
    expect(await k.moves(second)).toEqual(['deposit +10000', 'bet -2000', 'bet_refund +2000']);
  },

  async 'rollback before bet'(k) {
    const p = await funded(k, 'rollback-first', 10_000n);
    const b = money(k, p, 1_000n);
    expectReading(await rollback(k, 'bet', b), NOT_FOUND, 10_000n);
    expectRefusal(await bet(k, b), CONFLICT, 10_000n);
    expectRefusal(await bet(k, b), CONFLICT, 10_000n);
    expect(await k.balance(p)).toBe(10_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000']);
  },

  async 'double rollback'(k) {
    const p = await funded(k, 'double-rollback', 10_000n);
    const b = money(k, p, 1_000n);
    const cancelId = k.tx();
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectReading(await rollback(k, 'bet', b, cancelId), 'ok', 10_000n);
    expectReading(await rollback(k, 'bet', b, cancelId), REPEAT, 10_000n); // the vendor's retry
    expectReading(await rollback(k, 'bet', b), REPEAT, 10_000n); // a second rollback of the same bet
    expectReading(await bet(k, b), REPEAT, 10_000n); // the bet's own retry does not take it again
    expect(await k.balance(p)).toBe(10_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet_refund +1000']);
  },

  async 'refused bet rollback'(k) {
    const p = await funded(k, 'refused-rollback', 1_000n);
    const b = money(k, p, 5_000n);
    expectReading(await bet(k, b), 'insufficient_funds', 1_000n);
    expect(await k.recorded(k.a, b.txId)).toMatchObject({ status: 'refused' });
    expectReading(await rollback(k, 'bet', b), NOT_FOUND, 1_000n);
    expect(await k.balance(p)).toBe(1_000n);
    expect(await k.moves(p)).toEqual(['deposit +1000']);
  },

  async 'win rollback'(k) {
    const p = await funded(k, 'win-rollback', 10_000n);
    const b = money(k, p, 1_000n);
    const w = money(k, p, 3_000n, b.roundId);
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectReading(await win(k, w, 1_000n), 'ok', 12_000n);
    expectReading(await rollback(k, 'win', w), 'ok', 9_000n);
    expectReading(await rollback(k, 'win', w), REPEAT, 9_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +3000', 'win_reversal -3000']);

    // Taking back a win the player has already bet away would make the wallet negative: refused.
    const q = await funded(k, 'win-rollback-spent', 1_000n);
    const b2 = money(k, q, 1_000n);
    const w2 = money(k, q, 3_000n, b2.roundId);
    expectReading(await bet(k, b2), 'ok', 0n);
    expectReading(await win(k, w2, 1_000n), 'ok', 3_000n);
    expectReading(await bet(k, money(k, q, 3_000n)), 'ok', 0n);
    expectRefusal(await rollback(k, 'win', w2), ['insufficient_funds', 'refused'], 0n);
    expect(await k.balance(q)).toBe(0n);
    expect(await k.moves(q)).toEqual(['deposit +1000', 'bet -1000', 'win +3000', 'bet -3000']);
  },

  async 'result without a stake'(k) {
    const p = await funded(k, 'no-stake', 500n);
    const w = money(k, p, 1_250n);
    const before = await k.ledger();
    expectRefusal(await win(k, w, 0n), NO_STAKE, 500n);
    // A retry is judged again on its merits, and still finds no stake.
    expectRefusal(await win(k, w, 0n), NO_STAKE, 500n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toEqual([`no_stake (${w.txId})`]);
    expect(await k.moves(p)).toEqual(['deposit +500']);
  },

  async 'result for a cancelled stake'(k) {
    const p = await funded(k, 'cancelled-stake', 10_000n);
    const b = money(k, p, 1_000n);
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectReading(await rollback(k, 'bet', b), 'ok', 10_000n);
    const before = await k.ledger();
    expectRefusal(await win(k, money(k, p, 2_500n, b.roundId), 1_000n), [...NO_STAKE, 'repeat'], 10_000n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toHaveLength(1);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet_refund +1000']);
  },

  async 'result for a refused stake'(k) {
    const p = await funded(k, 'refused-stake', 500n);
    const b = money(k, p, 1_000n);
    expectReading(await bet(k, b), 'insufficient_funds', 500n);
    const before = await k.ledger();
    expectRefusal(await win(k, money(k, p, 2_000n, b.roundId), 1_000n), NO_STAKE, 500n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.moves(p)).toEqual(['deposit +500']);
  },

  async 'result for a zero stake'(k) {
    // Rules 10-11: a stake is what was debited; a bet of 0 debited nothing, so its round owes nothing.
    const p = await funded(k, 'zero-stake', 500n);
    const b = money(k, p, 0n);
    expectReading(await bet(k, b), 'ok', 500n);
    const before = await k.ledger();
    expectRefusal(await win(k, money(k, p, 1_250n, b.roundId), 0n), NO_STAKE, 500n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toHaveLength(1);
    expect(await k.balance(p)).toBe(500n);
  },

  async 'stake-free win'(k) {
    const p = await funded(k, 'stake-free', 500n);
    const say = k.driver.stakeFreeWin!;
    const w = money(k, p, 1_250n);
    expectReading(await k.send(k.a, say(k.a, w)), 'ok', 1_750n);
    expectReading(await k.send(k.a, say(k.a, w)), REPEAT, 1_750n);
    expect(await k.balance(p)).toBe(1_750n);
    // Kept apart from game wins, so reports can tell them.
    expect(await k.moves(p)).toEqual(['deposit +500', 'promo_win +1250']);
  },

  async 'zero win'(k) {
    const p = await funded(k, 'zero-win', 10_000n);
    const b = money(k, p, 1_000n);
    const w = money(k, p, 0n, b.roundId);
    expectReading(await bet(k, b), 'ok', 9_000n);
    expectReading(await win(k, w, 1_000n), 'ok', 9_000n);
    expect(await k.recorded(k.a, w.txId)).toEqual({ kind: 'credit', status: 'applied', amount: 0n });
    expectReading(await win(k, w, 1_000n), REPEAT, 9_000n);
    expect(await k.balance(p)).toBe(9_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000']);
  },

  async 'exact balance bet'(k) {
    const p = await funded(k, 'exact', 1_000n);
    expectReading(await bet(k, money(k, p, 1_000n)), 'ok', 0n);
    expect(await k.balance(p)).toBe(0n);
    expect(await k.moves(p)).toEqual(['deposit +1000', 'bet -1000']);
  },

  async 'insufficient funds'(k) {
    const p = await funded(k, 'short', 500n);
    const b = money(k, p, 501n);
    expectReading(await bet(k, b), 'insufficient_funds', 500n);
    expect(await k.recorded(k.a, b.txId)).toMatchObject({ kind: 'debit', status: 'refused' });
    expect(await k.balance(p)).toBe(500n);
    // The vendor's retry of the refused bet after the player has deposited: still refused, never debited.
    const deposit = await k.gw.gateway.backOffice.cashier('deposit', PlayerCode(p), k.driver.currency, 1_000n, `top-up:${p}`);
    expect(deposit.ok).toBe(true);
    expectRefusal(await bet(k, b), ['insufficient_funds', 'repeat'], 1_500n);
    expect(await k.balance(p)).toBe(1_500n);
    expect(await k.moves(p)).toEqual(['deposit +500', 'deposit +1000']);
  },

  async 'blocked player'(k) {
    const p = await funded(k, 'blocked', 10_000n);
    const cancelled = money(k, p, 1_000n);
    const settled = money(k, p, 1_000n);
    expectReading(await bet(k, cancelled), 'ok', 9_000n);
    expectReading(await bet(k, settled), 'ok', 8_000n);
    const blocked = await k.gw.gateway.backOffice.setStatus(PlayerCode(p), 'blocked');
    expect(blocked.ok).toBe(true);

    expectRefusal(await bet(k, money(k, p, 1_000n)), REFUSAL, 8_000n);
    expect(await k.balance(p)).toBe(8_000n);
    // Money owed to the player is never withheld.
    expectReading(await rollback(k, 'bet', cancelled), 'ok', 9_000n);
    expectReading(await win(k, money(k, p, 2_500n, settled.roundId), 1_000n), 'ok', 11_500n);
    expect(await k.balance(p)).toBe(11_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet -1000', 'bet_refund +1000', 'win +2500']);
  },

  async 'currency mismatch'(k) {
    const other = asCurrency(k.driver.currency === 'EUR' ? 'USD' : 'EUR');
    const p = k.player('other-currency');
    await k.fund(p, 10_000n, other);
    expectRefusal(await bet(k, money(k, p, 1_000n)), REFUSAL, 10_000n);
    expectRefusal(await win(k, money(k, p, 1_000n), 0n), REFUSAL, 10_000n);
    expect(await k.balance(p, other)).toBe(10_000n);
    const view = await k.gw.backOffice.player(PlayerCode(p));
    expect(view.ok && view.value.wallets.map((w) => w.currency.trim())).toEqual([other]);
    expect(await k.moves(p)).toEqual(['deposit +10000']);
  },

  async 'concurrent duplicates'(k) {
    const p = await funded(k, 'dup-race', 10_000n);
    const b = money(k, p, 1_000n);
    const bets = await Promise.all(Array.from({ length: 20 }, () => bet(k, b)));
    for (const r of bets) expectReading(r, REPEAT, 9_000n);
    expect(bets.filter((r) => r.kind === 'ok').length).toBeGreaterThanOrEqual(1);
    const cancelId = k.tx();
    const rollbacks = await Promise.all(Array.from({ length: 20 }, () => rollback(k, 'bet', b, cancelId)));
    for (const r of rollbacks) expectReading(r, REPEAT, 10_000n);
    expect(await k.balance(p)).toBe(10_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'bet_refund +1000']);
  },

  async 'concurrent bets'(k) {
    const p = await funded(k, 'race', 2_000n);
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => bet(k, money(k, p, 100n), i % 2 ? k.a : k.b)));
    const ok = answers.filter((r) => r.kind === 'ok');
    const refused = answers.filter((r) => r.kind !== 'ok');
    // Some serial order: each success saw the balance one bet lower, every refusal saw an empty wallet.
    expect(ok.map((r) => r.balance).sort((x, y) => Number(y! - x!))).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(1_900 - 100 * i)));
    for (const r of refused) expectReading(r, 'insufficient_funds', 0n);
    expect(await k.balance(p)).toBe(0n);
    expect(await k.moves(p)).toEqual(['deposit +2000', ...Array.from({ length: 20 }, () => 'bet -100')]);
  },

  async 'concurrent mix'(k) {
    // Ten rounds bet at once, five of them rolled back at the same moment (each bet and its rollback
    // net to nothing, in either order), then the other five won at once, with every call repeated.
    const p = await funded(k, 'mix', 1_000n);
    const bets = Array.from({ length: 10 }, () => money(k, p, 100n));
    const [cancelled, kept] = [bets.slice(0, 5), bets.slice(5)];
    const cancelIds = cancelled.map(() => k.tx());
    await Promise.all([
      ...bets.flatMap((b) => [bet(k, b), bet(k, b)]),
      ...cancelled.flatMap((b, i) => [rollback(k, 'bet', b, cancelIds[i]), rollback(k, 'bet', b, cancelIds[i])]),
    ]);
    expect(await k.balance(p)).toBe(500n);
    const wins = kept.map((b) => ({ ...b, txId: k.tx(), amount: k.amount(150n) }));
    const paid = await Promise.all(wins.flatMap((w) => [win(k, w, 100n), win(k, w, 100n)]));
    expect(await k.balance(p), `the wins were answered ${paid.map((r) => r.kind).join(', ')}`).toBe(1_250n);
    const moves = await k.moves(p);
    expect(moves.filter((m) => m === 'bet -100').length - moves.filter((m) => m === 'bet_refund +100').length).toBe(5);
    expect(moves.filter((m) => m === 'win +150').length).toBe(5);
  },

  async 'lock timeout'(k) {
    const p = await funded(k, 'locked', 10_000n);
    const b = money(k, p, 1_000n);
    const holder = new pg.Client({ connectionString: k.gw.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`select a.id from accounts a join players p on p.id = a.player_id where p.code = $1 and a.kind = 'player' for update`, [p]);
      const started = performance.now();
      const answer = await bet(k, b);
      const took = performance.now() - started;
      expectReading(answer, 'failed');
      expect(took).toBeLessThan(ANSWER_LIMIT_MS);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    expect(await k.balance(p)).toBe(10_000n);
    // The vendor follows a failed bet with its rollback: nothing was taken, nothing is given.
    expectReading(await rollback(k, 'bet', b), NOT_FOUND, 10_000n);
    expect(await k.balance(p)).toBe(10_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000']);
  },

  async 'inconsistent totals'(k) {
    const p = await funded(k, 'totals', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n), line(k, '2', 500n)]))), 'ok', 8_500n);
    const lines = [outcome(k, '1', 1_000n, 1_000n), outcome(k, '2', 500n, -500n)];
    const before = await k.ledger();
    const claims: RoundResult[] = [
      // The lines win 5.00 in all; the total claims 20.00.
      { ...roundResult(k, p, roundId, lines), totals: { stake: k.amount(1_500n), winloss: k.amount(2_000n) } },
      // The lines stake 15.00; the total claims 20.00.
      { ...roundResult(k, p, roundId, lines), totals: { stake: k.amount(2_000n), winloss: k.amount(500n) } },
      // A line losing more than its stake (the totals agree with the lines).
      roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 1_000n), outcome(k, '2', 500n, -600n)]),
    ];
    for (const claim of claims) expectRefusal(await k.send(k.a, rounds(k).result(k.a, claim)), REFUSAL, 8_500n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toEqual(claims.map((c) => `inconsistent (${c.txId})`));
    // Said consistently, it pays each line its stake plus its win/loss: 20.00 + 0.
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, lines))), 'ok', 10_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1500', 'win +2000']);
  },

  async 'stake not debited'(k) {
    const p = await funded(k, 'undebited', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n)]))), 'ok', 9_000n);
    const before = await k.ledger();
    const claims = [
      // A larger stake than was debited, which would pay back 20.00 for 10.00.
      roundResult(k, p, roundId, [outcome(k, '1', 2_000n, 0n)]),
      // A line never placed.
      roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 500n), outcome(k, '2', 1_000n, 1_000n)]),
    ];
    for (const claim of claims) expectRefusal(await k.send(k.a, rounds(k).result(k.a, claim)), REFUSAL, 9_000n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toEqual(claims.map((c) => `unknown_line (${c.txId})`));
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 500n)]))), 'ok', 10_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +1500']);
  },

  async 'result for cancelled lines'(k) {
    const p = await funded(k, 'cancelled-lines', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n), line(k, '2', 1_000n)]))), 'ok', 8_000n);
    expectReading(await k.send(k.a, rounds(k).cancel(k.a, roundBet(k, p, roundId, [line(k, '2', 1_000n)]))), 'ok', 9_000n);
    const before = await k.ledger();
    // The refunded stake would be paid back a second time.
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n), outcome(k, '2', 1_000n, 0n)]))), REFUSAL, 9_000n);
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '2', 1_000n, 1_000n)]))), REFUSAL, 9_000n);
    expect(await k.ledger()).toEqual(before);
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 1_000n)]))), 'ok', 11_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -2000', 'bet_refund +1000', 'win +2000']);
  },

  async 'cancel after settlement'(k) {
    const p = await funded(k, 'cancel-settled', 10_000n);
    const roundId = k.round();
    const lines = [line(k, '1', 1_000n), line(k, '2', 500n), line(k, '3', 300n)];
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, lines))), 'ok', 8_200n);
    // The result settles lines 1 and 2 (a loss and a win); line 3's cancel is still on its way.
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, -1_000n), outcome(k, '2', 500n, 500n)]))), 'ok', 9_200n);
    const before = await k.ledger();
    // The stake would come back and the result stand: refused, whole.
    expectRefusal(await k.send(k.a, rounds(k).cancel(k.a, roundBet(k, p, roundId, [lines[0]!]))), REFUSAL, 9_200n);
    expectRefusal(await k.send(k.a, rounds(k).cancel(k.a, roundBet(k, p, roundId, [lines[1]!, lines[2]!]))), REFUSAL, 9_200n);
    expect(await k.ledger()).toEqual(before);
    expect((await k.refusals(p)).map((r) => r.split(' ')[0])).toEqual(['line_closed', 'line_closed']);
    // A line the result did not settle can still be cancelled.
    expectReading(await k.send(k.a, rounds(k).cancel(k.a, roundBet(k, p, roundId, [lines[2]!]))), 'ok', 9_500n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1800', 'win +1000', 'bet_refund +300']);
  },

  async 'bet on a settled round'(k) {
    const p = await funded(k, 'bet-settled', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n)]))), 'ok', 9_000n);
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n)]))), 'ok', 10_000n);
    const late = roundBet(k, p, roundId, [line(k, '2', 500n)]);
    expectRefusal(await k.send(k.a, rounds(k).bet(k.a, late)), REFUSAL, 10_000n);
    // Refused for good: its retry too.
    expectRefusal(await k.send(k.a, rounds(k).bet(k.a, late)), CONFLICT, 10_000n);
    expect(await k.recorded(k.a, late.txId)).toMatchObject({ kind: 'debit', status: 'refused' });
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +1000']);
  },

  async 'second result'(k) {
    const p = await funded(k, 'second-result', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n)]))), 'ok', 9_000n);
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 1_000n)]))), 'ok', 11_000n);
    const before = await k.ledger();
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 3_000n)]))), REFUSAL, 11_000n);
    expect(await k.ledger()).toEqual(before);
    // The correction is a result change, which moves only the difference.
    expectReading(await k.send(k.a, rounds(k).change(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 3_000n, 1_000n)]))), 'ok', 13_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +2000', 'adjustment +2000']);
  },

  async 'change before its result'(k) {
    const p = await funded(k, 'change-first', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n), line(k, '2', 1_000n)]))), 'ok', 8_000n);
    // The result (line 1 lost, line 2 won 5.00) failed on its way and is re-sent after its correction.
    const original = roundResult(k, p, roundId, [outcome(k, '1', 1_000n, -1_000n), outcome(k, '2', 1_000n, 500n)]);
    const change = roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 1_000n, -1_000n), outcome(k, '2', 1_000n, 0n, 500n)]);
    expectReading(await k.send(k.a, rounds(k).change(k.a, change)), 'ok', 11_000n);
    const before = await k.ledger();
    // It pays nothing (the vendor may hear "done": the round is as it wants it), and is recorded.
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, original)), [...REFUSAL, 'ok', 'repeat'], 11_000n);
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, original)), [...REFUSAL, 'ok', 'repeat'], 11_000n);
    expect(await k.ledger()).toEqual(before);
    expect(await k.refusals(p)).toEqual([`superseded (${original.txId})`]);
    // Another result that is not the one corrected: a second result, refused.
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n), outcome(k, '2', 1_000n, 0n)]))), REFUSAL, 11_000n);
    // A change of the corrected result applies to it.
    expectReading(await k.send(k.a, rounds(k).change(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 2_000n, 1_000n)]))), 'ok', 12_000n);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -2000', 'adjustment +3000', 'adjustment +1000']);
  },

  async 'changes out of order'(k) {
    const p = await funded(k, 'changes', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n)]))), 'ok', 9_000n);
    expectReading(await k.send(k.a, rounds(k).result(k.a, roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n)]))), 'ok', 10_000n);
    const first = roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 500n, 0n)]);
    const second = roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 1_000n, 500n)]);
    const before = await k.ledger();
    // The second correction overtakes the first: it corrects a result the round does not hold yet.
    expectRefusal(await k.send(k.a, rounds(k).change(k.a, second)), REFUSAL, 10_000n);
    expect(await k.ledger()).toEqual(before);
    expectReading(await k.send(k.a, rounds(k).change(k.a, first)), 'ok', 10_500n);
    // Re-sent after it, the second applies.
    expectReading(await k.send(k.a, rounds(k).change(k.a, second)), 'ok', 11_000n);
    expect(await k.refusals(p)).toEqual([`stale_change (${second.txId})`]);
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +1000', 'adjustment +500', 'adjustment +500']);
  },

  async 'changes by the vendor clock'(k) {
    const p = await funded(k, 'clock', 10_000n);
    const roundId = k.round();
    expectReading(await k.send(k.a, rounds(k).bet(k.a, roundBet(k, p, roundId, [line(k, '1', 1_000n)]))), 'ok', 9_000n);
    // The vendor's order: the result (line 1 pushes), a correction to a win of 5.00, and a second
    // correction back to the push, each made a second after the one before (A -> B -> A).
    const made = Math.floor(Date.now() / 1000) - 10;
    const result = { ...roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n)]), at: made };
    const first = { ...roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 500n, 0n)]), at: made + 1 };
    const second = { ...roundResult(k, p, roundId, [outcome(k, '1', 1_000n, 0n, 500n)]), at: made + 2 };
    // The last correction arrives first and settles the round as the vendor left it.
    expectReading(await k.send(k.a, rounds(k).change(k.a, second)), 'ok', 10_000n);
    const before = await k.ledger();
    // The result and the first correction were made before it: the vendor's past, they pay nothing.
    // By its figures alone the first correction (push -> 5.00) would apply to the push the round holds.
    expectRefusal(await k.send(k.a, rounds(k).result(k.a, result)), [...REFUSAL, 'ok', 'repeat'], 10_000n);
    expectRefusal(await k.send(k.a, rounds(k).change(k.a, first)), [...REFUSAL, 'ok', 'repeat'], 10_000n);
    expectRefusal(await k.send(k.a, rounds(k).change(k.a, first)), [...REFUSAL, 'ok', 'repeat'], 10_000n);
    expect(await k.ledger()).toEqual(before);
    expect((await k.refusals(p)).sort()).toEqual([`superseded (${first.txId})`, `superseded (${result.txId})`].sort());
    expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'adjustment +1000']);
  },

  'round orders': (k) => roundOrders(k),

  async 'unstorable input'(k) {
    const p = await funded(k, 'unstorable', 10_000n);
    const d = k.driver.unstorable;
    const db = k.gw.gateway.db;
    const last = () => db.selectFrom('webhooks').select(['body', 'outcome', 'payload']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const kept = async (request: Request, outcome: string) => {
      const row = await last();
      expect(row.body.toString('utf8'), 'the body is kept as sent').toBe(request.body);
      expect(row.outcome).toBe(outcome);
      return row;
    };
    let balance = 10_000n;
    // Written as the escapes the history shows: each stands for the one character Postgres cannot keep.
    for (const text of ['nul\\u0000here', 'lone\\ud800', 'low\\udc00first']) {
      const odd = JSON.parse(`"${text}"`) as string;
      // In a free-text field: the bet is taken on its merits, its payload kept (made storable).
      const m = money(k, p, 100n);
      const free = await d.freeText(k.a, m, odd);
      balance -= 100n;
      expectReading(await k.send(k.a, free), 'ok', balance);
      const row = await kept(free, 'ok');
      expect(JSON.stringify(row.payload)).toContain(text.replaceAll('\\', '\\\\'));
      // In an identifier: refused at the door, nothing moves, still kept.
      for (const request of await d.ids(k.a, money(k, p, 100n), odd)) {
        const before = await k.ledger();
        expectReading(await k.send(k.a, request), k.driver.unreadable);
        expect(await k.ledger()).toEqual(before);
        await kept(request, 'rejected');
      }
    }
    for (const request of await d.duplicateKey(k.a, money(k, p, 100n))) {
      const before = await k.ledger();
      expectReading(await k.send(k.a, request), k.driver.unreadable);
      expect(await k.ledger()).toEqual(before);
      await kept(request, 'rejected');
    }
    // Nothing waits to be retried for ever, and the next proper bet goes through.
    expect(await k.gw.gateway.parking.depth()).toMatchObject({ retries: expect.objectContaining({ waiting: 0, delayed: 0 }) });
    expectReading(await bet(k, money(k, p, 100n)), 'ok', balance - 100n);
  },

  'bad credentials': hostile(
    (d) => d.hostile.badCredentials,
    () => ['unauthorized'],
  ),
  'undecryptable body': hostile(
    (d) => d.hostile.undecryptable,
    (d) => ['unauthorized', d.unreadable],
  ),
  'malformed body': hostile(
    (d) => d.hostile.malformed,
    (d) => [d.unreadable],
  ),
  'negative amount': hostile(
    (d) => d.hostile.negativeAmount,
    (d) => [d.unreadable],
  ),
  'wrong types': hostile(
    (d) => d.hostile.wrongTypes,
    (d) => [d.unreadable],
  ),
  'unknown command': hostile(
    (d) => d.hostile.unknownCommand,
    (d) => [d.unreadable],
  ),
  'oversize body': hostile(
    (d) => d.hostile.oversize,
    (d) => [d.unreadable],
  ),
};
