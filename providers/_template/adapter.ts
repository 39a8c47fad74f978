import { z } from 'zod';
import type { Answer, Decoded, Dialect, Failure, InboundRequest, ProviderAdapter, ReadOptions } from '../../src/gateway/contract.ts';
import { Secret } from '../../src/config/secret.ts';
import { currencyCode, type Currency } from '../../src/money/currency.ts';
import { parseJsonExact } from '../../src/money/json.ts';
import { formatAmount, parseAmount } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, type Outcome, type ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { statusFor, type Status } from './codes.ts';
import { request } from './wire.ts';

/**
 * TEMPLATE: a complete, minimal dialect to copy (`npm run new-provider -- <name>`), certified by the
 * TEMPLATE: conformance kit like every real adapter, but not registered in providers/index.ts.
 * The vendor's dialect. The adapter only translates: it reads and authenticates a request, turns it
 * into ONE wallet operation, and words the wallet's outcome. It never decides a money rule.
 */

/** Per-instance options from config/providers.json, validated at start. Secrets arrive resolved from the environment. */
const options = z.object({
  currency: currencyCode,
  sharedKey: z.string().min(16).transform((s) => new Secret(s)),
});

type Options = z.infer<typeof options>;

/** What the answer needs to know about the call. */
type Context = { player: string };

const json = (status: Status, balance?: string): Answer => ({
  contentType: 'application/json',
  body: JSON.stringify(balance === undefined ? { status } : { status, balance }),
});

class TemplateAdapter implements ProviderAdapter<Context> {
  readonly dialect = 'template';
  readonly credentialHeaders = ['x-template-key'];
  readonly id: ProviderId;
  readonly #currency: Currency;
  readonly #key: Secret;

  constructor(id: ProviderId, opts: Options) {
    this.id = id;
    this.#currency = opts.currency;
    this.#key = opts.sharedKey;
  }

  async read(req: InboundRequest, options: ReadOptions = {}): Promise<Decoded<Context>> {
    // 1. Authenticate, in constant time, before reading anything else (a trusted re-read was authenticated on arrival).
    const key = req.headers['x-template-key'];
    if (!options.trusted && !this.#key.matches(typeof key === 'string' ? key : undefined)) return reject('unauthorized', 'bad or missing X-Template-Key');
    // 2. Decode and validate at the edge, once.
    let payload: unknown;
    try {
      payload = parseJsonExact(req.body.toString('utf8'));
    } catch (error) {
      return reject('malformed', `body: ${(error as Error).message}`);
    }
    const parsed = request.safeParse(payload);
    if (!parsed.success) return reject('malformed', z.prettifyError(parsed.error), payload);
    const r = parsed.data;
    // 3. One wallet operation.
    const base = { player: PlayerCode(r.player), currency: this.#currency };
    let operation: WalletOperation;
    switch (r.type) {
      case 'balance':
        operation = { op: 'balance', requireActive: false, ...base };
        break;
      case 'bet':
      case 'win': {
        const amount = parseAmount(r.amount, this.#currency);
        if (!amount.ok) return reject('malformed', `amount: ${amount.reason}`, payload);
        const money = {
          provider: this.id,
          txId: ExternalTxId(r.tx),
          roundId: r.round,
          amount: amount.value,
          ...('game' in r && r.game !== undefined ? { details: { game: r.game } } : {}),
          ...base,
        };
        operation = r.type === 'bet' ? { op: 'debit', ...money } : { op: 'credit', stakeFree: r.promo === true, ...money };
        break;
      }
      case 'rollback':
        operation = { op: 'rollback', provider: this.id, target: ExternalTxId(r.target), ...base };
        break;
    }
    // The vendor's limit on the answer: it waits this long before it gives up on a call.
    return { kind: 'operation', payload, operation, context: { player: r.player }, answerWithinMs: 2000 };
  }

  // 4. The outcome in the dialect's words: balances as decimal text in currency units.
  async answer(_context: Context, outcome: Outcome): Promise<Answer> {
    return json(statusFor(outcome), outcome.balance === undefined ? undefined : formatAmount(outcome.balance, this.#currency));
  }

  async fail(problem: Failure): Promise<Answer> {
    return json(problem === 'forbidden' ? 'unauthorized' : problem === 'unreadable' ? 'rejected' : 'error');
  }
}

function reject(reason: 'unauthorized' | 'malformed', detail: string, payload?: unknown): Decoded<Context> {
  const player = (payload as { player?: unknown } | null)?.player;
  return { kind: 'rejected', reason, detail, payload, ...(typeof player === 'string' ? { player } : {}), answer: json(reason === 'unauthorized' ? 'unauthorized' : 'rejected') };
}

export const templateDialect: Dialect<Options> = {
  name: 'template',
  options,
  create: (id, opts) => new TemplateAdapter(id, opts),
};
