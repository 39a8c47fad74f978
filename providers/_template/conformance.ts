import { asCurrency } from '../../src/money/currency.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { ITEMISED_SCENARIOS, type Driver, type Kind, type Money, type Request } from '../../test/conformance/kit.ts';
import { templateDialect } from './adapter.ts'; // TEMPLATE-ONLY
import type { Status } from './codes.ts';

/**
 * How the dialect says the conformance kit's scenarios (test/conformance/kit.ts). The kit finds this
 * file by its name, builds a gateway with `instances`, and certifies the adapter against every
 * wallet rule.
 * TEMPLATE: replace the requests and the reading with the vendor's own.
 */

const CURRENCY = asCurrency('USD');
const KEYS: Readonly<Record<string, string>> = {
  'conformance-template-a': 'conformance-template-key-a',
  'conformance-template-b': 'conformance-template-key-b',
};

const KIND: Readonly<Record<Status, Kind>> = {
  ok: 'ok',
  already_processed: 'repeat',
  insufficient_funds: 'insufficient_funds',
  player_unknown: 'refused',
  player_blocked: 'refused',
  not_found: 'not_found',
  rejected: 'invalid',
  unauthorized: 'unauthorized',
  error: 'failed',
};

function post(instance: string, body: unknown, headers: Record<string, string> = { 'x-template-key': KEYS[instance]! }): Request {
  return {
    path: `/callbacks/${instance}`,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

const betBody = (m: Money, extra: Record<string, unknown> = {}) => ({ type: 'bet', player: m.player, tx: m.txId, round: m.roundId, amount: m.amount, ...extra });

export const driver: Driver = {
  dialect: 'template',
  // TEMPLATE: not listed in providers/index.ts, so the kit is given it (a stamped copy is registered instead).
  unregistered: templateDialect, // TEMPLATE-ONLY
  currency: CURRENCY,
  instances: Object.entries(KEYS).map(([id, sharedKey]) => ({ id, dialect: 'template', options: { currency: CURRENCY, sharedKey } })),
  unreadable: 'invalid',

  login: (instance, player) => post(instance, { type: 'balance', player }),
  bet: (instance, m) => post(instance, betBody(m)),
  win: (instance, m) => post(instance, { type: 'win', player: m.player, tx: m.txId, round: m.roundId, amount: m.amount }),
  stakeFreeWin: (instance, m) => post(instance, { type: 'win', player: m.player, tx: m.txId, round: m.roundId, amount: m.amount, promo: true }),
  rollback: (instance, r) => post(instance, { type: 'rollback', player: r.player, target: r.txId }),

  hostile: {
    badCredentials: (instance, m) => [post(instance, betBody(m), { 'x-template-key': 'wrong-key-wrong-key' }), post(instance, betBody(m), {})],
    malformed: (instance, m) => [
      post(instance, JSON.stringify(betBody(m)).slice(0, -5)),
      post(instance, ''),
      post(instance, betBody(m, { amount: '1.001' })),
      post(instance, betBody(m, { tx: '' })),
    ],
    negativeAmount: (instance, m) => [post(instance, betBody(m, { amount: `-${m.amount}` }))],
    wrongTypes: (instance, m) => [post(instance, betBody(m, { amount: true })), post(instance, betBody(m, { player: 42 }))],
    unknownCommand: (instance, m) => [post(instance, betBody(m, { type: 'jackpot' }))],
    oversize: (instance, m, limit) => [post(instance, betBody(m, { padding: 'x'.repeat(2 * limit) }))],
  },

  unstorable: {
    freeText: (instance, m, text) => post(instance, betBody(m, { game: `Slot ${text}` })),
    ids: (instance, m, text) => [post(instance, betBody(m, { tx: `${m.txId}${text}` })), post(instance, betBody(m, { player: `${m.player}${text}` }))],
    duplicateKey: (instance, m) => [post(instance, JSON.stringify(betBody(m)).replace('"amount":', '"amount":"9999","amount":'))],
  },

  async read(_instance, answer) {
    const body = JSON.parse(answer.body) as { status?: Status; balance?: string };
    const kind = body.status === undefined ? undefined : KIND[body.status];
    if (!kind) throw new Error(`unknown status in ${answer.body}`);
    if (body.balance === undefined) return { kind, text: answer.body };
    const balance = parseAmount(body.balance, CURRENCY);
    if (!balance.ok) throw new Error(`balance ${body.balance}: ${balance.reason}`);
    return { kind, balance: balance.value, text: answer.body };
  },

  unsupported: {
    'undecryptable body': 'the dialect sends plain JSON; a body that is not JSON is the malformed-body scenario',
    ...Object.fromEntries(
      ITEMISED_SCENARIOS.map((name) => [name, 'the dialect does not itemise rounds: its bets and wins are whole transactions and a win never settles its round']),
    ),
  },
};
