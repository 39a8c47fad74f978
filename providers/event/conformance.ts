import { expect } from 'vitest';
import { createCodec, type Codec } from '../../providers/event/codec.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import { formatAmount, parseAmount, type Minor } from '../../src/money/minor.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import {
  expectReading,
  expectRefusal,
  REFUSAL,
  REPEAT,
  type Driver,
  type Kind,
  type Kit,
  type Line,
  type Money,
  type Request,
  type RoundResult,
  type RoundsDriver,
} from '../../test/conformance/kit.ts';

/**
 * The event dialect (docs/specs/event-dialect.md) for the conformance kit: AES-256-ECB bodies under
 * each instance's API key, Api-Id / Api-Key headers, a timestamp of now. A round is table_no/game_no
 * (one table, the kit's round as game_no); a kit bet is one bet line, bet_index 1, so a rollback is a
 * bet_cancel of that line; a win is a bet_result whose net win/loss pays the kit's amount.
 */

const CURRENCY = asCurrency('USD');
const TABLE = 'CONFORMANCE-01';
const BET_INDEX = 1;

interface Credentials {
  apiId: string;
  /** 32 UTF-8 bytes: the Api-Key header and the AES-256 key. */
  apiKey: string;
  codec: Codec;
}

const credentials = (apiId: string, apiKey: string): Credentials => ({ apiId, apiKey, codec: createCodec('aes-ecb', new TextEncoder().encode(apiKey)) });

const INSTANCES: Readonly<Record<string, Credentials>> = {
  'conformance-event-a': credentials('conformance-agent-a', 'conformance-event-key-a-01234567'),
  'conformance-event-b': credentials('conformance-agent-b', 'conformance-event-key-b-89abcdef'),
};

const CODE: Readonly<Record<string, Kind>> = { R0: 'ok', R1: 'failed', R2: 'unauthorized', R3: 'invalid', R4: 'insufficient_funds' };

const of = (instance: string) => INSTANCES[instance]!;
const otherThan = (instance: string) => Object.keys(INSTANCES).find((id) => id !== instance)!;
const now = () => Math.floor(Date.now() / 1000);
/** A decimal as a JSON number, digit for digit. */
const number = (text: string) => JSON.rawJSON(text);

/** Signed decimal text to minor units, exactly. */
function minor(text: string): Minor {
  const negative = text.startsWith('-');
  const parsed = parseAmount(negative ? text.slice(1) : text, CURRENCY);
  if (!parsed.ok) throw new Error(`amount ${text}: ${parsed.reason}`);
  return negative ? -parsed.value : parsed.value;
}

/** Decimal text minus decimal text, exactly, in the driver's currency. */
const minus = (a: string, b: string) => formatAmount(minor(a) - minor(b), CURRENCY);

/** The sum of decimal texts, as a JSON number. */
const total = (texts: readonly string[]) => number(formatAmount(texts.reduce((sum, t) => sum + minor(t), 0n), CURRENCY));

const envelope = (eventType: string, txId: string, player: string, data?: unknown, made = now()) => ({
  transaction_id: txId,
  event_type: eventType,
  timestamp: made,
  feedback_data: 'conformance',
  user_id: player,
  ...(data === undefined ? {} : { data }),
});

/** Encrypts `plain` under `key` (default: the instance's) and sends the instance's credentials (default). */
async function post(instance: string, plain: string, o: { key?: Credentials; headers?: Record<string, string> } = {}): Promise<Request> {
  const c = of(instance);
  return {
    path: `/callbacks/${instance}`,
    headers: { 'content-type': 'text/plain', ...(o.headers ?? { 'api-id': c.apiId, 'api-key': c.apiKey }) },
    body: await (o.key ?? c).codec.encrypt(plain),
  };
}

const betData = (m: Money) => ({
  currency: CURRENCY,
  game_type: 'BAC',
  table_no: TABLE,
  game_no: m.roundId,
  total_bet_amount: number(m.amount),
  bets: [{ bet_index: BET_INDEX, bet_type: 'PLAYER', bet_amount: number(m.amount) }],
});

const betEvent = (m: Money, data: Record<string, unknown> = {}) => envelope('bet', m.txId, m.player, { ...betData(m), ...data });

/** A settlement paying `amount` on a round where `stake` was bet: the net win/loss is their difference. */
function resultData(roundId: string, stake: string, amount: string) {
  const winloss = minus(amount, stake);
  return {
    currency: CURRENCY,
    game_type: 'BAC',
    table_no: TABLE,
    game_no: roundId,
    total_bet_amount: number(stake),
    total_winloss: number(winloss),
    result: 'P',
    result_detail: '{"player":[],"banker":[]}',
    bet_results: [{ bet_index: BET_INDEX, bet_type: 'PLAYER', bet_amount: number(stake), winloss: number(winloss) }],
  };
}

/** A bet_cancel of the kit bet's one line. */
const cancelData = (m: Money) => ({
  currency: CURRENCY,
  game_type: 'BAC',
  table_no: TABLE,
  game_no: m.roundId,
  total_bet_cancel_amount: number(m.amount),
  bet_cancels: [{ bet_index: BET_INDEX, bet_type: 'PLAYER', bet_amount: number(m.amount) }],
});

/** A body sent as is, with the instance's credentials. */
function raw(instance: string, body: string): Request {
  const c = of(instance);
  return { path: `/callbacks/${instance}`, headers: { 'content-type': 'text/plain', 'api-id': c.apiId, 'api-key': c.apiKey }, body };
}

const json = (value: unknown) => JSON.stringify(value);

const table = (roundId: string) => ({ currency: CURRENCY, game_type: 'BAC', table_no: TABLE, game_no: roundId });

/** A round's bet lines as the vendor's bets / bet_cancels: bet_index is the line's name. */
const items = (lines: readonly Line[]) => lines.map((l) => ({ bet_index: l.ref, bet_type: 'PLAYER', bet_amount: number(l.amount) }));

function results(r: RoundResult, change: boolean) {
  const lines = r.lines.map((l) => ({
    bet_index: l.ref,
    bet_type: 'PLAYER',
    bet_amount: number(l.stake),
    winloss: number(l.winloss),
    ...(change && l.before !== undefined ? { winloss_before: number(l.before) } : {}),
  }));
  const totals = r.totals ?? {
    stake: formatAmount(r.lines.reduce((sum, l) => sum + minor(l.stake), 0n), CURRENCY),
    winloss: formatAmount(r.lines.reduce((sum, l) => sum + minor(l.winloss), 0n), CURRENCY),
    ...(change ? { before: formatAmount(r.lines.reduce((sum, l) => sum + minor(l.before ?? '0'), 0n), CURRENCY) } : {}),
  };
  return {
    ...table(r.roundId),
    total_bet_amount: number(totals.stake),
    total_winloss: number(totals.winloss),
    ...(change ? { total_winloss_before: number(totals.before ?? '0'), result_before: 'P' } : {}),
    result: 'B',
    result_detail: '{"player":[],"banker":[]}',
    bet_results: lines,
  };
}

/** Table rounds: a bet of several bet indices, bet_cancel naming some, bet_result per index, result_change with what it corrects. */
const rounds: RoundsDriver = {
  bet: (instance, b) => post(instance, json(envelope('bet', b.txId, b.player, { ...table(b.roundId), total_bet_amount: total(b.lines.map((l) => l.amount)), bets: items(b.lines) }))),
  cancel: (instance, c) =>
    post(instance, json(envelope('bet_cancel', c.txId, c.player, { ...table(c.roundId), total_bet_cancel_amount: total(c.lines.map((l) => l.amount)), bet_cancels: items(c.lines) }))),
  result: (instance, r) => post(instance, json(envelope('bet_result', r.txId, r.player, results(r, false), r.at))),
  change: (instance, r) => post(instance, json(envelope('result_change', r.txId, r.player, results(r, true), r.at))),
};

export const driver: Driver = {
  dialect: 'event',
  currency: CURRENCY,
  instances: Object.entries(INSTANCES).map(([id, c]) => ({
    id,
    dialect: 'event',
    options: { apiId: c.apiId, apiKey: c.apiKey, currency: CURRENCY, encryption: 'aes-ecb', timestampWindowSeconds: 300 },
  })),
  unreadable: 'invalid',
  rounds,

  login: (instance, player, id) => post(instance, json(envelope('login', id, player))),
  bet: (instance, m) => post(instance, json(betEvent(m))),
  win: (instance, m) => post(instance, json(envelope('bet_result', m.txId, m.player, resultData(m.roundId, m.stake, m.amount)))),
  rollback(instance, r) {
    if (r.of === 'win') throw new Error('the event dialect cannot roll back a win (see unsupported)');
    return post(instance, json(envelope('bet_cancel', r.id, r.player, cancelData(r))));
  },

  hostile: {
    badCredentials: async (instance, m) => {
      const c = of(instance);
      const other = of(otherThan(instance));
      const body = json(betEvent(m));
      return Promise.all([
        post(instance, body, { headers: { 'api-id': c.apiId, 'api-key': 'x'.repeat(32) } }),
        post(instance, body, { headers: { 'api-id': 'some-other-agent', 'api-key': c.apiKey } }),
        post(instance, body, { headers: {} }),
        post(instance, body, { headers: { 'api-id': c.apiId.toUpperCase(), 'api-key': c.apiKey } }),
        // Another instance's credentials, its body encrypted under its own key.
        post(instance, body, { key: other, headers: { 'api-id': other.apiId, 'api-key': other.apiKey } }),
      ]);
    },
    undecryptable: async (instance, m) => {
      const body = json(betEvent(m));
      const sealed = Buffer.from((await post(instance, body)).body, 'base64');
      return [
        raw(instance, 'this is not base64 %%%'),
        raw(instance, ''),
        raw(instance, Buffer.from('twenty bytes of junk').toString('base64')),
        raw(instance, sealed.subarray(0, sealed.length - 16).toString('base64')),
        raw(instance, body),
        await post(instance, body, { key: of(otherThan(instance)) }),
      ];
    },
    malformed: async (instance, m) =>
      Promise.all([
        post(instance, 'not json'),
        post(instance, '[]'),
        post(instance, json({ ...betEvent(m), user_id: undefined })),
        post(instance, json({ ...betEvent(m), transaction_id: '' })),
        post(instance, json({ ...betEvent(m), data: undefined })),
        post(instance, json(betEvent(m, { table_no: undefined }))),
        post(instance, json(betEvent(m, { bets: [] }))),
        // Inconsistent: the bets do not add up to the total; one bet_index twice.
        post(instance, json(betEvent(m, { total_bet_amount: number(minus(m.amount, '0.01')) }))),
        post(instance, json(betEvent(m, { bets: [{ bet_index: BET_INDEX, bet_amount: number(m.amount) }, { bet_index: BET_INDEX, bet_amount: number('0') }] }))),
        post(instance, json(betEvent(m, { currency: 'XYZ' }))),
        // More decimals than the currency has: a validation error, never a rounding.
        post(instance, json(betEvent({ ...m, amount: m.amount.includes('.') ? `${m.amount}001` : `${m.amount}.001` }))),
      ]),
    negativeAmount: async (instance, m) =>
      Promise.all([
        post(instance, json(betEvent({ ...m, amount: `-${m.amount}` }))),
        post(instance, json(betEvent(m, { total_bet_amount: number(`-${m.amount}`), bets: [{ bet_index: BET_INDEX, bet_amount: number(`-${m.amount}`) }] }))),
      ]),
    wrongTypes: async (instance, m) =>
      Promise.all([
        post(instance, json(betEvent(m, { total_bet_amount: true }))),
        post(instance, json(betEvent(m, { bets: { bet_index: BET_INDEX, bet_amount: number(m.amount) } }))),
        post(instance, json(betEvent(m, { table_no: {} }))),
        post(instance, json(betEvent(m, { bets: [{ bet_index: BET_INDEX, bet_amount: [number(m.amount)] }] }))),
        post(instance, json({ ...betEvent(m), timestamp: String(now()) })),
        post(instance, json({ ...betEvent(m), user_id: number('12345') })),
        post(instance, json({ ...betEvent(m), transaction_id: number(m.txId) })),
        post(instance, json({ ...betEvent(m), data: 'bet' })),
      ]),
    unknownCommand: async (instance, m) =>
      Promise.all(['jackpot', 'BET', 'deposit', 'constructor'].map((type) => post(instance, json({ ...betEvent(m), event_type: type })))),
    // A bet that would be valid (unknown fields are ignored) but for its size.
    oversize: async (instance, m, limit) => [await post(instance, json(betEvent(m, { padding: 'x'.repeat(2 * limit) })))],
  },

  unstorable: {
    freeText: (instance, m, text) => post(instance, json({ ...betEvent(m), feedback_data: `feedback ${text}` })),
    ids: (instance, m, text) =>
      Promise.all([
        post(instance, json({ ...betEvent(m), transaction_id: `${m.txId}${text}` })),
        post(instance, json({ ...betEvent(m), user_id: `${m.player}${text}` })),
        post(instance, json(betEvent(m, { game_no: `${m.roundId}${text}` }))),
        post(instance, json(betEvent(m, { bets: [{ bet_index: `1${text}`, bet_type: 'PLAYER', bet_amount: number(m.amount) }] }))),
      ]),
    // Which total is meant? Neither is taken.
    duplicateKey: (instance, m) =>
      Promise.all([
        post(instance, json(betEvent(m)).replace('"total_bet_amount":', '"total_bet_amount":999999,"total_bet_amount":')),
        post(instance, json(betEvent(m)).replace('"user_id":', '"user_id":"someone-else","user_id":')),
      ]),
  },

  async read(instance, answer) {
    const text = await of(instance).codec.decrypt(answer.body);
    const body = parseJsonExact(text) as { code?: unknown; latest_balance?: unknown };
    const kind = typeof body.code === 'string' ? CODE[body.code] : undefined;
    if (!kind) throw new Error(`no known code in ${text}`);
    const raw = body.latest_balance;
    // R0 requires latest_balance; R4 should carry the current balance.
    if ((kind === 'ok' || kind === 'insufficient_funds') && !(raw instanceof JsonNumber)) throw new Error(`${body.code} without latest_balance: ${text}`);
    if (!(raw instanceof JsonNumber)) return { kind, text };
    const balance = parseAmount(raw.source, CURRENCY);
    if (!balance.ok) throw new Error(`latest_balance ${raw.source}: ${balance.reason}`);
    return { kind, balance: balance.value, text };
  },

  unsupported: {
    'foreign rollback':
      "a bet_cancel names a table round and bet indices, not a transaction, and a live table's round is shared by every seated player: another player's bet_cancel names that player's own bets, never the owner's",
    'win rollback':
      'the event dialect has no event that reverses a settled result: bet_cancel refunds bet lines only, and a settled round is corrected by result_change (the "result change" extra)',
    'stake-free win': 'the event dialect has no win without a bet: every bet_result settles bet lines the round took',
  },

  extras: {
    async 'result change'(k) {
      const p = k.player('result-change');
      await k.fund(p, 10_000n);
      const bet: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      expectReading(await k.send(k.a, post(k.a, json(betEvent(bet)))), 'ok', 9_000n);
      expectReading(await k.send(k.a, driver.win(k.a, { ...bet, txId: k.tx(), amount: k.amount(1_500n), stake: bet.amount })), 'ok', 10_500n);
      // Settled at +5.00 net, corrected to a loss: the 15.00 paid is taken back.
      const change = resultChange(k, bet, { winloss: -1_000n, before: 500n });
      expectReading(await k.send(k.a, change), 'ok', 9_000n);
      expectReading(await k.send(k.a, change), REPEAT, 9_000n);
      expectReading(await k.send(k.a, resultChange(k, bet, { winloss: 500n, before: -1_000n })), 'ok', 10_500n);
      expect(await k.balance(p)).toBe(10_500n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'bet -1000', 'win +1500', 'adjustment -1500', 'adjustment +1500']);
    },

    async 'bet naming a currency the player has no wallet in'(k) {
      const p = k.player('bet-currency');
      await k.fund(p, 10_000n);
      const bet: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      expectRefusal(await k.send(k.a, post(k.a, json(betEvent(bet, { currency: 'EUR' })))), REFUSAL, 10_000n);
      expect(await k.balance(p)).toBe(10_000n);
      const view = await k.gw.gateway.backOffice.player(PlayerCode(p));
      expect(view.ok && view.value.wallets.map((w) => w.currency.trim())).toEqual([CURRENCY]);
      expect(await k.moves(p)).toEqual(['deposit +10000']);
    },

    async 'a result or cancel naming another currency than its bet is refused'(k) {
      const p = k.player('round-currency');
      await k.gw.fund(p, { [CURRENCY]: '100', EUR: '100' });
      const bet: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      expectReading(await k.send(k.a, driver.bet(k.a, bet)), 'ok', 9_000n);
      const inEur = { currency: 'EUR' };
      const result = envelope('bet_result', k.tx(), p, { ...resultData(bet.roundId, bet.amount, k.amount(1_500n)), ...inEur });
      // (latest_balance, if any, is the named currency's wallet: the kit asserts on the wallets instead.)
      expectReading(await k.send(k.a, post(k.a, json(result))), REFUSAL);
      expectReading(await k.send(k.a, post(k.a, json(envelope('bet_cancel', k.tx(), p, { ...cancelData(bet), ...inEur })))), REFUSAL);
      expect(await k.balance(p, asCurrency('EUR'))).toBe(10_000n);
      expect(await k.balance(p)).toBe(9_000n);
      // Said in the bet's currency, the result pays.
      expectReading(await k.send(k.a, driver.win(k.a, { ...bet, txId: k.tx(), amount: k.amount(1_500n), stake: bet.amount })), 'ok', 10_500n);
      expect(await k.moves(p)).toEqual(['deposit +10000', 'deposit +10000', 'bet -1000', 'win +1500']);
    },

    async 'a body replayed outside the timestamp window'(k) {
      const p = k.player('stale');
      await k.fund(p, 10_000n);
      const bet: Money = { player: p, txId: k.tx(), roundId: k.round(), amount: k.amount(1_000n) };
      const before = await k.ledger();
      const stale = { ...betEvent(bet), timestamp: now() - 3_600 };
      expectReading(await k.send(k.a, post(k.a, json(stale))), 'unauthorized');
      expect(await k.ledger()).toEqual(before);
      expectReading(await k.send(k.a, driver.bet(k.a, bet)), 'ok', 9_000n);
    },
  },
};

/** A result_change of the kit bet's round: its net win/loss becomes `winloss`, from `before`. */
function resultChange(k: Kit, bet: Money, o: { winloss: Minor; before: Minor }): Promise<Request> {
  const winloss = number(formatAmount(o.winloss, CURRENCY));
  const before = number(formatAmount(o.before, CURRENCY));
  return post(
    k.a,
    json(
      envelope('result_change', k.tx(), bet.player, {
        currency: CURRENCY,
        game_type: 'BAC',
        table_no: TABLE,
        game_no: bet.roundId,
        total_bet_amount: number(bet.amount),
        total_winloss: winloss,
        total_winloss_before: before,
        result: 'B',
        result_before: 'P',
        bet_results: [{ bet_index: BET_INDEX, bet_type: 'PLAYER', bet_amount: number(bet.amount), winloss, winloss_before: before }],
      }),
    ),
  );
}
