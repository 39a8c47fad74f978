import { z } from 'zod';
import type { Answer, Decoded, Dialect, Failure, InboundRequest, ProviderAdapter, ReadOptions } from '../../src/gateway/contract.ts';
import { Secret } from '../../src/config/secret.ts';
import { currencyCode, type Currency } from '../../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import { amountAsJsonNumber, parseAmount, type Minor } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, type Check, type Outcome, type ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { CHECKS, REFUSAL_RESULT, RESULT, duplicateResult, refusalResult } from './codes.ts';
import { apiOptions, commandVendor } from './vendor.ts';
import { BET_TYPES, BONUS_CALL_TYPE, WIN_TYPES, call, commandData, envelope, isCommand, type CommandName } from './wire.ts';

const options = z.object({
  /** One vendor account is one currency. */
  currency: currencyCode,
  callbackToken: z.string().min(16, 'a callback token must be at least 16 characters').transform((s) => new Secret(s)),
  /** The vendor's own API (register players, list games, launch); without it the instance only receives callbacks. */
  api: apiOptions.optional(),
});

type Options = z.infer<typeof options>;

/** What the answer needs to know about the call. */
interface Context {
  command: CommandName;
  account: string;
  /** trans_id echoed as the vendor sent it (number or string). */
  transId?: unknown;
}

const json = (value: unknown): Answer => ({ contentType: 'application/json', body: JSON.stringify(value) });

/** The vendor's limits on the casino's answer: bet and balance within 2 s, every other command within 4 s. */
const ANSWER_WITHIN_MS: Readonly<Record<CommandName, number>> = { authenticate: 4000, balance: 2000, bet: 2000, win: 4000, cancel: 4000, status: 4000 };

class CommandAdapter implements ProviderAdapter<Context> {
  readonly dialect = 'command';
  readonly credentialHeaders = ['callback-token'];
  readonly id: ProviderId;
  readonly #currency: Currency;
  readonly #token: Secret;

  constructor(id: ProviderId, opts: Options) {
    this.id = id;
    this.#currency = opts.currency;
    this.#token = opts.callbackToken;
  }

  async read(request: InboundRequest, options: ReadOptions = {}): Promise<Decoded<Context>> {
    const token = request.headers['callback-token'];
    if (!options.trusted && !this.#token.matches(typeof token === 'string' ? token : undefined)) {
      return this.#reject('unauthorized', 'bad or missing Callback-Token', { result: RESULT.badToken, status: 'ERROR' });
    }
    let payload: unknown;
    try {
      payload = parseJsonExact(request.body.toString('utf8'));
    } catch (error) {
      // Not JSON, or a key named twice (which of the two to believe is a guess).
      return this.#reject('malformed', `body: ${(error as Error).message}`);
    }
    const parsed = envelope.safeParse(payload);
    if (!parsed.success) return this.#reject('malformed', z.prettifyError(parsed.error), undefined, payload);
    const { command, data, check } = parsed.data;
    if (!isCommand(command)) return this.#reject('unsupported', `unknown command ${JSON.stringify(command)}`, undefined, payload);

    const fields = call.safeParse({ command, data });
    if (!fields.success) return this.#reject('malformed', `${command}: ${z.prettifyError(fields.error)}`, undefined, payload);
    const c = fields.data;
    const precedence = (check ?? '')
      .split(',')
      .map((code) => CHECKS[code.trim()])
      .filter((check): check is Check => check !== undefined);
    const base = { player: PlayerCode(c.data.account), currency: this.#currency, precedence };
    const context: Context = { command, account: c.data.account, ...('trans_id' in c.data ? { transId: c.data.trans_id } : {}) };

    let operation: WalletOperation;
    switch (c.command) {
      case 'authenticate':
      case 'balance':
        operation = { op: c.command, requireActive: precedence.includes('active'), ...base };
        break;
      case 'bet':
      case 'win': {
        const m = c.data;
        const types = c.command === 'bet' ? BET_TYPES : WIN_TYPES;
        if (m.type !== undefined && !types.has(m.type.source)) {
          return this.#reject('malformed', `${command}: type ${m.type.source} is not a ${command} type`, undefined, payload);
        }
        const amount = parseAmount(m.amount, this.#currency);
        if (!amount.ok) return this.#reject('malformed', `${command}: amount: ${amount.reason}`, undefined, payload);
        const money = { provider: this.id, txId: ExternalTxId(idText(m.trans_id)), roundId: idText(m.round_id), amount: amount.value, details: details(m), ...(m.game_code === undefined ? {} : { game: m.game_code }), ...base };
        operation = c.command === 'bet' ? { op: 'debit', ...money } : { op: 'credit', stakeFree: isBonusCall(m), ...money };
        break;
      }
      case 'cancel':
        operation = { op: 'rollback', provider: this.id, target: ExternalTxId(idText(c.data.trans_id)), ...(c.data.round_id === undefined ? {} : { roundId: idText(c.data.round_id) }), ...base };
        break;
      case 'status':
        operation = { op: 'status', provider: this.id, txId: ExternalTxId(idText(c.data.trans_id)), ...base };
        break;
    }
    return { kind: 'operation', payload, operation, context, answerWithinMs: ANSWER_WITHIN_MS[command] };
  }

  async answer(context: Context, outcome: Outcome): Promise<Answer> {
    const balance = (value: Minor) => ({ balance: amountAsJsonNumber(value, this.#currency) });
    switch (outcome.type) {
      case 'ok':
        if (context.command === 'authenticate') {
          return json({ result: RESULT.ok, status: 'OK', data: { account: context.account, ...balance(outcome.balance) } });
        }
        return json({ result: RESULT.ok, status: 'OK', data: balance(outcome.balance) });
      case 'duplicate': {
        const result = duplicateResult(context.command);
        return json({ result, status: result === RESULT.ok ? 'OK' : 'ERROR', data: balance(outcome.balance) });
      }
      case 'refused': {
        const { result, withBalance } = refusalResult(context.command, outcome.reason);
        return json({
          result,
          status: 'ERROR',
          ...(withBalance && outcome.balance !== undefined ? { data: balance(outcome.balance) } : {}),
        });
      }
      case 'status':
        if (outcome.state === 'processed' || outcome.state === 'cancelled') {
          const transStatus = outcome.state === 'processed' ? 'OK' : 'CANCELED';
          return json({ result: RESULT.ok, status: 'OK', data: { trans_id: context.transId, trans_status: transStatus } });
        }
        // Refused or never seen: for the vendor the transaction does not exist.
        return json({ result: REFUSAL_RESULT.target_not_found.result, status: 'ERROR', data: balance(outcome.balance) });
    }
  }

  /** 99 carries the balance wherever the player is known and the gateway could read it (the spec's shape). */
  async fail(problem: Failure, _context?: Context, balance?: Minor): Promise<Answer> {
    if (problem === 'forbidden') return json({ result: RESULT.badToken, status: 'ERROR' });
    return json({ result: RESULT.processingFailure, status: 'ERROR', ...(balance === undefined ? {} : { data: { balance: amountAsJsonNumber(balance, this.#currency) } }) });
  }

  #reject(reason: 'unauthorized' | 'malformed' | 'unsupported', detail: string, body?: unknown, payload?: unknown): Decoded<Context> {
    const account = (payload as { data?: { account?: unknown } } | null)?.data?.account;
    return {
      kind: 'rejected',
      reason,
      detail,
      payload,
      ...(typeof account === 'string' ? { player: account } : {}),
      answer: json(body ?? { result: RESULT.processingFailure, status: 'ERROR' }),
      // A call it cannot carry out still answers 99 with the balance of the player it names.
      ...(typeof account === 'string' && body === undefined
        ? { withBalance: { player: PlayerCode(account), currency: this.#currency, answer: (balance: Minor) => this.fail('fault', undefined, balance) } }
        : {}),
    };
  }
}

const idText = (id: string | JsonNumber) => (typeof id === 'string' ? id : id.source);

/** A win of a vendor "bonus call" promotion (type 32, or a call_id other than 0) has no stake on its round. */
function isBonusCall(m: z.infer<typeof commandData.win>): boolean {
  const callId = m.call_id === undefined ? '0' : idText(m.call_id);
  return m.type?.source === BONUS_CALL_TYPE || !/^0*$/.test(callId);
}

function details(m: z.infer<typeof commandData.bet>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['call_id', 'provider_id', 'game_code', 'game_name', 'game_type', 'type'] as const) {
    const value = m[key];
    if (value !== undefined) out[key] = value instanceof JsonNumber ? value.source : value;
  }
  return out;
}

export const commandDialect: Dialect<Options> = {
  name: 'command',
  options,
  create: (id, opts) => new CommandAdapter(id, opts),
  vendor: (_id, opts, transport) => commandVendor(opts.currency, opts.api, transport),
};
