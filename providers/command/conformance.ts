import { asCurrency } from '../../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { ITEMISED_SCENARIOS, type Driver, type Kind, type Money, type Request } from '../../test/conformance/kit.ts';

/**
 * The command dialect (docs/specs/command-dialect.md) for the conformance kit: plain JSON with a
 * Callback-Token header, every data field the spec lists, trans_id an integer, a `check` list per command.
 */

const CURRENCY = asCurrency('USD');
const TOKENS: Readonly<Record<string, string>> = {
  'conformance-command-a': 'conformance-command-token-a',
  'conformance-command-b': 'conformance-command-token-b',
};

const CHECK = { authenticate: '21', bet: '21,22,41,31', win: '21,22,41', cancel: '21,22,42' } as const;

const KIND: Readonly<Record<string, Kind>> = {
  '0': 'ok',
  '21': 'refused',
  '22': 'refused',
  '31': 'insufficient_funds',
  '41': 'repeat',
  '42': 'not_found',
  '99': 'failed',
  '100': 'unauthorized',
};
/** The codes whose answer the spec gives a `data.balance`. */
const WITH_BALANCE = new Set(['0', '31', '41', '42']);

const game = { provider_id: 'conformance', game_code: 'conformance-slot', game_name: 'Conformance Slot', game_type: 'slots' };
/** A decimal as a JSON number, digit for digit. */
const number = (text: string) => JSON.rawJSON(text);
/** trans_id goes out as an integer, as the vendor sends it. */
const transId = (id: string) => (/^\d+$/.test(id) ? number(id) : id);

function envelope(command: string, data: unknown, check?: string) {
  return { command, data, timestamp: String(Math.floor(Date.now() / 1000)), ...(check === undefined ? {} : { check }) };
}

function post(instance: string, body: unknown, headers: Record<string, string> = { 'callback-token': TOKENS[instance]! }): Request {
  return {
    path: `/callbacks/${instance}`,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

const moneyData = (m: Money, type: number) => ({
  account: m.player,
  trans_id: transId(m.txId),
  call_id: 0,
  round_id: m.roundId,
  ...game,
  amount: number(m.amount),
  type,
});

const betBody = (m: Money, data: Record<string, unknown> = {}) => envelope('bet', { ...moneyData(m, 1), ...data }, CHECK.bet);

export const driver: Driver = {
  dialect: 'command',
  currency: CURRENCY,
  instances: Object.entries(TOKENS).map(([id, callbackToken]) => ({ id, dialect: 'command', options: { currency: CURRENCY, callbackToken } })),
  // The dialect has no validation code: a request it cannot read gets 99, "processing failure" (as an unknown command does).
  unreadable: 'failed',

  login: (instance, player) => post(instance, envelope('authenticate', { account: player }, CHECK.authenticate)),
  bet: (instance, m) => post(instance, betBody(m)),
  win: (instance, m) => post(instance, envelope('win', moneyData(m, 2), CHECK.win)),
  // A vendor "bonus call" promotion: type 32 and the call's id.
  stakeFreeWin: (instance, m) => post(instance, envelope('win', { ...moneyData(m, 32), call_id: 9001 }, CHECK.win)),
  // The cancel names the bet's or win's trans_id; it has no id or amount of its own.
  rollback: (instance, r) => post(instance, envelope('cancel', { account: r.player, trans_id: transId(r.txId), round_id: r.roundId, ...game }, CHECK.cancel)),

  hostile: {
    badCredentials: (instance, m) => {
      const other = Object.keys(TOKENS).find((id) => id !== instance)!;
      return [
        post(instance, betBody(m), { 'callback-token': 'not-the-callback-token' }),
        post(instance, betBody(m), {}),
        post(instance, betBody(m), { 'callback-token': TOKENS[other]! }),
        post(instance, betBody(m), { 'callback-token': TOKENS[instance]!.toUpperCase() }),
      ];
    },
    malformed: (instance, m) => [
      post(instance, JSON.stringify(betBody(m)).slice(0, -10)),
      post(instance, ''),
      post(instance, '[]'),
      post(instance, { command: 'bet', timestamp: '1600000000', check: CHECK.bet }),
      post(instance, envelope('bet', { ...moneyData(m, 1), amount: undefined }, CHECK.bet)),
      // A win's transaction type on a bet: inconsistent.
      post(instance, envelope('bet', moneyData(m, 2), CHECK.bet)),
      post(instance, betBody(m, { amount: '1e' })),
      // More decimals than the currency has: a validation error, never a rounding.
      post(instance, betBody(m, { amount: number(m.amount.includes('.') ? `${m.amount}001` : `${m.amount}.001`) })),
    ],
    negativeAmount: (instance, m) => [post(instance, betBody(m, { amount: number(`-${m.amount}`) })), post(instance, betBody(m, { amount: `-${m.amount}` }))],
    wrongTypes: (instance, m) => [
      post(instance, betBody(m, { amount: true })),
      post(instance, betBody(m, { amount: { value: number(m.amount) } })),
      post(instance, betBody(m, { account: number('12345') })),
      post(instance, betBody(m, { trans_id: number(`${m.txId}.5`) })),
      post(instance, betBody(m, { round_id: null })),
      post(instance, { ...betBody(m), data: [m.player, m.txId, m.amount] }),
      post(instance, { ...betBody(m), command: number('1') }),
    ],
    unknownCommand: (instance, m) => [
      post(instance, { ...betBody(m), command: 'jackpot' }),
      post(instance, { ...betBody(m), command: 'BET' }),
      post(instance, { ...betBody(m), command: 'deposit' }),
      post(instance, { ...betBody(m), command: 'constructor' }),
    ],
    // A bet that would be valid (unknown fields are ignored) but for its size.
    oversize: (instance, m, limit) => [post(instance, betBody(m, { padding: 'x'.repeat(2 * limit) }))],
  },

  unstorable: {
    freeText: (instance, m, text) => post(instance, betBody(m, { game_name: `Slot ${text}` })),
    ids: (instance, m, text) => [post(instance, betBody(m, { trans_id: `${m.txId}${text}` })), post(instance, betBody(m, { account: `${m.player}${text}` })), post(instance, betBody(m, { round_id: `${m.roundId}${text}` }))],
    // Which amount is meant? Neither is taken.
    duplicateKey: (instance, m) => [
      post(instance, JSON.stringify(betBody(m)).replace('"amount":', '"amount":999999,"amount":')),
      post(instance, JSON.stringify(betBody(m)).replace('"account":', `"account":"someone-else","account":`)),
    ],
  },

  async read(_instance, answer) {
    const body = parseJsonExact(answer.body) as { result?: unknown; status?: unknown; data?: { balance?: unknown } };
    if (!(body.result instanceof JsonNumber)) throw new Error(`no numeric result in ${answer.body}`);
    const code = body.result.source;
    const kind = KIND[code];
    if (!kind) throw new Error(`unknown result ${code} in ${answer.body}`);
    if (body.status !== (code === '0' ? 'OK' : 'ERROR')) throw new Error(`status does not match result ${code} in ${answer.body}`);
    const raw = body.data?.balance;
    if (WITH_BALANCE.has(code) && !(raw instanceof JsonNumber)) throw new Error(`result ${code} without a numeric data.balance: ${answer.body}`);
    if (!(raw instanceof JsonNumber)) return { kind, text: answer.body };
    const balance = parseAmount(raw.source, CURRENCY);
    if (!balance.ok) throw new Error(`balance ${raw.source}: ${balance.reason}`);
    return { kind, balance: balance.value, text: answer.body };
  },

  unsupported: {
    'undecryptable body': 'the command dialect sends plain JSON with no encryption; a body that is not JSON is the malformed-body scenario',
    ...Object.fromEntries(
      ITEMISED_SCENARIOS.map((name) => [
        name,
        'the command dialect does not itemise rounds: a bet and a win are whole transactions, a win never settles its round, and there is no result change; its round rules are the stake scenarios and the round orders',
      ]),
    ),
  },
};
