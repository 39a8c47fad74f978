import { z } from 'zod';
import type { Answer, Decoded, Dialect, Failure, InboundRequest, ProviderAdapter, ReadOptions } from '../../src/gateway/contract.ts';
import { Secret } from '../../src/config/secret.ts';
import { currencyCode, isCurrency, type Currency } from '../../src/money/currency.ts';
import { parseJsonExact } from '../../src/money/json.ts';
import { amountAsJsonNumber, parseAmount, type Minor } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, type BetLine, type LineChange, type Outcome, type ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { createCodec, UndecryptableBody, type Codec } from './codec.ts';
import { codeFor, type Code } from './codes.ts';
import { RESULT_CHANGE_EVENT, answerWithinMs, idempotencyKey, madeAt, netResult, roundKey } from './inferred.ts';
import { apiOptions, checkTables, eventVendor } from './vendor.ts';
import { envelope, eventData, isEventType, type EventType } from './wire.ts';

const options = z.object({
  apiId: z.string().min(1).max(200),
  /** The API key: the credential in the Api-Key header, and (its 32 UTF-8 bytes) the encryption key. */
  apiKey: z
    .string()
    .refine((k) => Buffer.byteLength(k, 'utf8') === 32, 'the API key must be 32 bytes (AES-256)')
    .transform((k) => new Secret(k)),
  /** The currency of events that do not name one (login, logout, results). */
  currency: currencyCode,
  encryption: z.enum(['aes-ecb', 'jwe']).default('aes-ecb'),
  /**
   * Bodies whose timestamp is further than this from now are refused: an ECB body has no integrity
   * and no nonce, so without a window a captured body could be replayed forever. 0 turns it off.
   */
  timestampWindowSeconds: z.number().int().min(0).max(86_400).default(300),
  /** The vendor's own API (game lobby); without it the instance only receives webhooks. */
  api: apiOptions.optional(),
}).superRefine((o, ctx) => checkTables(o.api, o.currency, ctx));

type Options = z.infer<typeof options>;

interface Context {
  /** The event_type as sent (echoed in the answer, even when unknown). */
  event: string;
  userId: string;
  timestamp: number;
  currency: Currency;
}

/** An amount or a refusal reason. */
type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

class EventAdapter implements ProviderAdapter<Context> {
  readonly dialect = 'event';
  /** The Api-Id names the account and is kept; the Api-Key is the credential (and the encryption key). */
  readonly credentialHeaders = ['api-key'];
  // bet_result settles the round (rule 12).
  readonly resultSettlesRound = true;
  readonly id: ProviderId;
  readonly #opts: Options;
  readonly #apiId: Secret;
  readonly #codec: Codec;

  constructor(id: ProviderId, opts: Options) {
    this.id = id;
    this.#opts = opts;
    this.#apiId = new Secret(opts.apiId);
    this.#codec = createCodec(opts.encryption, new TextEncoder().encode(opts.apiKey.reveal()));
  }

  async read(request: InboundRequest, options: ReadOptions = {}): Promise<Decoded<Context>> {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    if (!options.trusted) {
      // Both compared in full, in constant time, whatever the first one said.
      const idOk = this.#apiId.matches(header('api-id'));
      const keyOk = this.#opts.apiKey.matches(header('api-key'));
      if (!idOk || !keyOk) return this.#reject('unauthorized', 'R2', 'bad or missing Api-Id / Api-Key');
    }

    let plain: string;
    try {
      plain = options.plaintext ? request.body.toString('utf8') : await this.#codec.decrypt(request.body.toString('utf8'));
    } catch (error) {
      if (error instanceof UndecryptableBody) return this.#reject('unauthorized', 'R2', error.message);
      throw error;
    }
    let payload: unknown;
    try {
      payload = parseJsonExact(plain);
    } catch (error) {
      return this.#reject('malformed', 'R3', `decrypted body: ${(error as Error).message}`);
    }
    const parsed = envelope.safeParse(payload);
    if (!parsed.success) return this.#reject('malformed', 'R3', z.prettifyError(parsed.error), payload);
    const e = parsed.data;
    const context: Context = { event: e.event_type, userId: e.user_id, timestamp: e.timestamp, currency: this.#opts.currency };
    if (!isEventType(e.event_type)) return this.#reject('unsupported', 'R3', `unknown event_type ${JSON.stringify(e.event_type)}`, payload, context);

    const window = this.#opts.timestampWindowSeconds;
    const age = Math.abs(request.receivedAt.getTime() / 1000 - e.timestamp);
    if (!options.trusted && window > 0 && age > window) {
      return this.#reject('unauthorized', 'R2', `timestamp ${e.timestamp} is ${Math.round(age)} s from now (window ${window} s)`, payload, context);
    }

    const operation = this.#operation(e.event_type, e, context);
    if (!operation.ok) return this.#reject('malformed', 'R3', `${e.event_type}: ${operation.reason}`, payload, context);
    return { kind: 'operation', payload, operation: operation.value, context, answerWithinMs: answerWithinMs(e.event_type) };
  }

  #operation(event: EventType, e: z.infer<typeof envelope>, context: Context): Parsed<WalletOperation> {
    const base = { provider: this.id, player: PlayerCode(e.user_id), txId: ExternalTxId(idempotencyKey(e)) };
    const details = e.feedback_data === undefined ? undefined : { feedback_data: e.feedback_data };
    if (event === 'login' || event === 'logout') {
      return ok({
        op: 'session',
        action: event === 'login' ? 'start' : 'end',
        requireActive: event === 'login',
        currency: context.currency,
        ...(details ? { details } : {}),
        ...base,
      });
    }
    const data = eventData[event].safeParse(e.data);
    if (!data.success) return invalid(z.prettifyError(data.error));
    const d = data.data as z.infer<(typeof eventData)['bet_result']> & z.infer<(typeof eventData)['bet']> & z.infer<(typeof eventData)['bet_cancel']>;
    if (d.currency !== undefined) {
      if (!isCurrency(d.currency)) return invalid(`unknown currency ${JSON.stringify(d.currency)}`);
      context.currency = d.currency;
    }
    const currency = context.currency;
    const roundId = roundKey(d.table_no, d.game_no);
    // Only a bet is shown naming its currency: a cancel, result or change naming none is in its
    // round's, which the wallet knows (the instance's is only a guess, and so are its amounts' units).
    const unnamed = d.currency === undefined && event !== 'bet' ? { currencyUnnamed: true } : {};
    const money = { ...base, currency, roundId, ...unnamed, ...(d.game_type === undefined ? {} : { game: d.game_type }), ...(details ? { details: { ...details, game_type: d.game_type } } : {}) };

    switch (event) {
      case 'bet':
      case 'bet_cancel': {
        const items = event === 'bet' ? d.bets : d.bet_cancels;
        const lines = this.#lines(items, currency);
        if (!lines.ok) return lines;
        const total = amountOf(event === 'bet' ? d.total_bet_amount : d.total_bet_cancel_amount, currency);
        if (!total.ok) return total;
        if (lines.value.reduce((sum, l) => sum + l.amount, 0n) !== total.value) return invalid('the bets do not add up to the total');
        return event === 'bet'
          ? ok({ op: 'debit', amount: total.value, lines: lines.value, ...money })
          : ok({ op: 'cancel_bets', amount: total.value, lines: lines.value, ...money });
      }
      case 'bet_result':
      case RESULT_CHANGE_EVENT: {
        // The totals and every line go to the wallet as claims: it checks them against each other and
        // against the stakes it debited, and pays from its own record (wallet-semantics.md, rule 11).
        // A bet_result is a result_change without its "before" fields.
        const r = data.data as z.infer<(typeof eventData)[typeof RESULT_CHANGE_EVENT]>;
        const stake = amountOf(r.total_bet_amount, currency);
        if (!stake.ok) return stake;
        const winloss = signedAmountOf(r.total_winloss, currency);
        if (!winloss.ok) return winloss;
        const lines: LineChange[] = [];
        for (const item of r.bet_results) {
          const lineStake = amountOf(item.bet_amount, currency);
          if (!lineStake.ok) return invalid(`bet_index ${item.bet_index}: ${lineStake.reason}`);
          const lineWinloss = signedAmountOf(item.winloss, currency);
          if (!lineWinloss.ok) return invalid(`bet_index ${item.bet_index}: winloss: ${lineWinloss.reason}`);
          const line: LineChange = { ref: item.bet_index, stake: lineStake.value, winloss: netResult(lineStake.value, lineWinloss.value) };
          if (item.winloss_before !== undefined) {
            const before = signedAmountOf(item.winloss_before, currency);
            if (!before.ok) return invalid(`bet_index ${item.bet_index}: winloss_before: ${before.reason}`);
            line.winlossBefore = netResult(lineStake.value, before.value);
          }
          lines.push(line);
        }
        // When the vendor made it orders a round's result and corrections made in different seconds (rule 13).
        const made = madeAt(e);
        if (event === 'bet_result') return ok({ op: 'settle', lines, totals: { stake: stake.value, winloss: netResult(stake.value, winloss.value) }, madeAt: made, ...money });
        const before = signedAmountOf(r.total_winloss_before, currency);
        if (!before.ok) return invalid(`total_winloss_before: ${before.reason}`);
        return ok({
          op: 'adjust',
          lines,
          totals: { stake: stake.value, winloss: netResult(stake.value, winloss.value), winlossBefore: netResult(stake.value, before.value) },
          madeAt: made,
          ...money,
        });
      }
    }
    return invalid('unsupported event');
  }

  #lines(items: readonly { bet_index: string; bet_amount: string }[], currency: Currency): Parsed<BetLine[]> {
    const seen = new Set<string>();
    const lines: BetLine[] = [];
    for (const item of items) {
      if (seen.has(item.bet_index)) return invalid(`bet_index ${item.bet_index} appears twice`);
      seen.add(item.bet_index);
      const amount = amountOf(item.bet_amount, currency);
      if (!amount.ok) return invalid(`bet_index ${item.bet_index}: ${amount.reason}`);
      lines.push({ ref: item.bet_index, amount: amount.value });
    }
    return ok(lines);
  }

  async answer(context: Context, outcome: Outcome): Promise<Answer> {
    // An event that named no currency was applied in its round's: the balance is in that one.
    const currency = outcome.type !== 'status' ? outcome.currency : undefined;
    return this.#encrypted(codeFor(context.event, outcome), currency === undefined ? context : { ...context, currency }, outcome.balance);
  }

  async fail(problem: Failure, context?: Context, balance?: Minor): Promise<Answer> {
    return this.#encrypted(problem === 'forbidden' ? 'R2' : problem === 'unreadable' ? 'R3' : 'R1', context, balance);
  }

  async #encrypted(code: Code, context?: Context, balance?: Minor): Promise<Answer> {
    const body = {
      code,
      event_type: context?.event ?? null,
      timestamp: context?.timestamp ?? Math.floor(Date.now() / 1000),
      user_id: context?.userId ?? null,
      ...(balance !== undefined && context ? { latest_balance: amountAsJsonNumber(balance, context.currency) } : {}),
    };
    return { contentType: 'text/plain', body: await this.#codec.encrypt(JSON.stringify(body)) };
  }

  async #reject(reason: 'unauthorized' | 'malformed' | 'unsupported', code: Code, detail: string, payload?: unknown, context?: Context): Promise<Decoded<Context>> {
    const userId = (payload as { user_id?: unknown } | null)?.user_id;
    return { kind: 'rejected', reason, detail, payload, ...(typeof userId === 'string' ? { player: userId } : {}), answer: await this.#encrypted(code, context) };
  }
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const invalid = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function amountOf(text: string, currency: Currency): Parsed<Minor> {
  const amount = parseAmount(text, currency);
  return amount.ok ? ok(amount.value) : invalid(amount.reason);
}

/** A net win/loss: negative when the round was lost. */
function signedAmountOf(text: string, currency: Currency): Parsed<Minor> {
  // A sign belongs to its digits: "- 5" is no decimal text, and is left whole for parseAmount to refuse.
  const negative = /^-\d/.test(text.trim());
  const amount = amountOf(negative ? text.trim().slice(1) : text, currency);
  return amount.ok && negative ? ok(-amount.value) : amount;
}

export const eventDialect: Dialect<Options> = {
  name: 'event',
  options,
  create: (id, opts) => new EventAdapter(id, opts),
  vendor: (_id, opts, transport) =>
    eventVendor(
      opts.currency,
      opts.api,
      { apiId: opts.apiId, apiKey: opts.apiKey, codec: createCodec(opts.encryption, new TextEncoder().encode(opts.apiKey.reveal())) },
      transport,
    ),
};

