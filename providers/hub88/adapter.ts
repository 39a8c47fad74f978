import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Answer, Decoded, Dialect, Failure, InboundRequest, ProviderAdapter, ReadOptions, Rejection } from '../../src/gateway/contract.ts';
import { Secret } from '../../src/config/secret.ts';
import { currencyCode, isCurrency, type Currency } from '../../src/money/currency.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import type { Minor } from '../../src/money/minor.ts';
import { ExternalTxId, PlayerCode, type Outcome, type ProviderId, type WalletOperation } from '../../src/wallet/types.ts';
import { DOOR_STATUS, FAILURE_STATUS, statusFor, type Status } from './codes.ts';
import { OPERATOR_ID_REQUIRED, TOKEN_VERIFIED_ON, answerWithinMs, debitOf, isStakeFreeWin, rollbackCurrency, winCloses } from './inferred.ts';
import { DEFAULT_TOKEN_TTL_SECONDS, SessionTokens } from './session.ts';
import { SIGNATURE_HEADER, privateKeyPem, publicKeyPem, signBody, verifyBody } from './signature.ts';
import { fromHubUnits, hubAmountJson } from './units.ts';
import { apiOptions, hub88Vendor } from './vendor.ts';
import { calls, endpointOf, otherCallsField, type Call, type Endpoint } from './wire.ts';

/**
 * The Hub88 wallet dialect, operator side: Hub88 calls the casino's wallet at an endpoint per call
 * (POST /callbacks/{provider}/user/info, /user/balance, /transaction/bet, /transaction/win,
 * /transaction/rollback), each body signed with Hub88's RSA key; every answer is HTTP 200 JSON
 * `{user, status, request_uuid, currency, balance}`, signed with the casino's key. Amounts are integers
 * in 1/100000 of the currency unit. The `token` is the casino's own game session token (session.ts).
 * Each call is ONE wallet operation; the statuses are in codes.ts, the points Hub88's pages leave open
 * in inferred.ts.
 */

const options = z.object({
  /** Hub88's id of the casino: a call that names another operator_id is refused. */
  operatorId: z.number().int().positive(),
  /** The currency of /user/info (which names none), and of a rollback of a transaction never seen that carries no session token. */
  currency: currencyCode,
  /** Hub88's public key (PEM): every call's X-Hub88-Signature is verified with it. */
  vendorPublicKey: publicKeyPem,
  /** The casino's private key (PEM): every answer is signed with it (Hub88 holds its public key). */
  casinoPrivateKey: privateKeyPem,
  /** The HS256 key of the game session tokens the casino issues at launch. */
  tokenSecret: z
    .string()
    .min(32, 'the session token secret must be at least 32 characters')
    .transform((s) => new Secret(s)),
  tokenTtlSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 60 * 60)
    .default(DEFAULT_TOKEN_TTL_SECONDS),
  /** Hub88's Games API (game list, game URLs), when the casino launches games through it. */
  api: apiOptions.optional(),
});

type Options = z.infer<typeof options>;

/** What the answer needs: the endpoint called, and what the call said of itself. */
interface Context {
  endpoint: Endpoint | undefined;
  user?: string;
  requestUuid?: string;
  currency?: Currency;
}

type Door = { kind: 'rejected'; reason: Rejection; status: Status; detail: string };

class Hub88Adapter implements ProviderAdapter<Context> {
  readonly dialect = 'hub88';
  readonly credentialHeaders = ['x-hub88-signature'];
  readonly id: ProviderId;
  readonly #opts: Options;
  readonly #vendorKey: KeyObject;
  readonly #casinoKey: KeyObject;
  readonly #sessions: SessionTokens;

  constructor(id: ProviderId, opts: Options) {
    this.id = id;
    this.#opts = opts;
    this.#vendorKey = opts.vendorPublicKey;
    this.#casinoKey = createPrivateKey(opts.casinoPrivateKey.reveal());
    this.#sessions = new SessionTokens({ instance: id, tokenSecret: opts.tokenSecret, tokenTtlSeconds: opts.tokenTtlSeconds });
  }

  async read(request: InboundRequest, readOptions: ReadOptions = {}): Promise<Decoded<Context>> {
    const trusted = readOptions.trusted === true;
    // 1. The signature, over the bytes as received, before anything of the body is read.
    if (!trusted) {
      const header = request.headers['x-hub88-signature'];
      if (!(await verifyBody(request.body, typeof header === 'string' ? header : undefined, this.#vendorKey))) {
        // The answer echoes the request_uuid, as every answer must; nothing else of an unsigned body is taken.
        const { requestUuid } = contextOf(tryJson(request.body), undefined);
        return this.#reject({ endpoint: undefined, ...(requestUuid !== undefined ? { requestUuid } : {}) }, door('unauthorized', 'badSignature', `missing or bad ${SIGNATURE_HEADER}`));
      }
    }
    // 2. JSON in UTF-8, exactly: numbers keep their digits, a key named twice is refused.
    let payload: unknown;
    try {
      payload = parseJsonExact(UTF8.decode(request.body));
    } catch (error) {
      return this.#reject({ endpoint: undefined }, door('malformed', 'syntax', `body: ${(error as Error).message}`));
    }
    const context = contextOf(payload, endpointOf(request.path));
    if (!isObject(payload)) return this.#reject(context, door('malformed', 'syntax', 'the body is not a JSON object'), payload);
    const endpoint = context.endpoint;
    if (!endpoint) return this.#reject(context, door('unsupported', 'syntax', `unknown endpoint ${JSON.stringify(request.path.slice(0, 100))}`), payload);
    // 3. The endpoint's fields: one missing is a syntax error, one of the wrong type a types error.
    const parsed = calls[endpoint].safeParse(payload);
    if (!parsed.success) {
      const missing = parsed.error.issues.some((issue) => valueAt(payload, issue.path) === undefined);
      return this.#reject(context, door('malformed', missing ? 'syntax' : 'types', `${endpoint}: ${z.prettifyError(parsed.error)}`), payload);
    }
    // The signature does not cover the path: a body that is another endpoint's call is refused here.
    const foreign = otherCallsField(endpoint, payload);
    if (foreign !== undefined) return this.#reject(context, door('malformed', 'syntax', `${endpoint}: ${foreign} belongs to another call`), payload);
    const call = parsed.data;
    const operator = call.operator_id === undefined ? undefined : call.operator_id instanceof JsonNumber ? call.operator_id.source : call.operator_id;
    if (operator === undefined ? OPERATOR_ID_REQUIRED : operator !== String(this.#opts.operatorId)) {
      return this.#reject(context, door('unauthorized', 'foreignOperator', `operator_id ${JSON.stringify(operator ?? null)} is not this instance's`), payload);
    }
    // 4. ONE wallet operation.
    const decided = await this.#operation(endpoint, call, context, trusted);
    if (decided.kind === 'rejected') return this.#reject(context, decided, payload);
    return { kind: 'operation', payload, operation: decided.operation, context, answerWithinMs: answerWithinMs(endpoint) };
  }

  async #operation(endpoint: Endpoint, call: Call<Endpoint>, context: Context, trusted: boolean): Promise<Door | { kind: 'operation'; operation: WalletOperation }> {
    const player = PlayerCode(call.user);
    const operation = (op: WalletOperation) => ({ kind: 'operation' as const, operation: op });
    let session: Currency | undefined;
    if (TOKEN_VERIFIED_ON.has(endpoint)) {
      // A re-read (retry, replay) was checked when it arrived: its token may have expired since.
      const check = await this.#sessions.verify((call as Call<'/user/balance'>).token, call.user, { allowExpired: trusted });
      if (!check.ok) return door('unauthorized', check.problem === 'expired' ? 'expiredToken' : 'badToken', check.detail);
      session = check.currency;
    }
    switch (endpoint) {
      case '/user/info':
        context.currency = this.#opts.currency;
        return operation({ op: 'authenticate', requireActive: false, player, currency: this.#opts.currency });
      case '/user/balance':
        context.currency = session!;
        return operation({ op: 'balance', requireActive: false, player, currency: session! });
      case '/transaction/bet':
      case '/transaction/win': {
        const t = call as Call<'/transaction/bet'> | Call<'/transaction/win'>;
        if (!isCurrency(t.currency)) return door('malformed', 'unknownCurrency', `unknown currency ${JSON.stringify(t.currency)}`);
        context.currency = t.currency;
        if (session !== undefined && t.currency !== session) return door('malformed', 'otherCurrency', `the bet is in ${t.currency}, its session in ${session}`);
        const amount = fromHubUnits(t.amount.source, t.currency);
        if (!amount.ok) return door('malformed', 'types', `amount: ${amount.reason}`);
        const money = { provider: this.id, player, currency: t.currency, txId: ExternalTxId(t.transaction_uuid), roundId: t.round, ...(typeof t.game_code === 'string' ? { game: t.game_code } : {}) };
        const details = compact({
          game_code: t.game_code,
          supplier_transaction_id: t.supplier_transaction_id instanceof JsonNumber ? t.supplier_transaction_id.source : t.supplier_transaction_id,
          request_uuid: t.request_uuid,
          round_closed: t.round_closed,
          reward_uuid: t.reward_uuid,
          is_free: t.is_free,
          bet: t.bet,
          meta: t.meta,
        });
        if (endpoint === '/transaction/bet') {
          // A bet's round_closed is kept in its details and closes nothing (inferred.ts, winCloses).
          const free = t.is_free === true;
          return operation({ op: 'debit', ...money, amount: debitOf(amount.value, free), details: { ...details, ...(free ? { free_bet_amount: String(amount.value) } : {}) } });
        }
        const w = t as Call<'/transaction/win'>;
        const stakeFree = isStakeFreeWin(w);
        return operation({
          op: 'credit',
          ...money,
          amount: amount.value,
          details: { ...details, reference_transaction_uuid: w.reference_transaction_uuid },
          // A stake-free win names its bet too: one of ours that was refused or rolled back pays nothing.
          against: ExternalTxId(w.reference_transaction_uuid),
          ...(stakeFree ? { stakeFree: true } : {}),
          closes: winCloses(w.round_closed),
        });
      }
      case '/transaction/rollback': {
        const r = call as Call<'/transaction/rollback'>;
        let tokenCurrency: Currency | undefined;
        if (typeof r.token === 'string' && r.token !== '') {
          // Read for its currency only: a rollback is never refused for its token.
          const check = await this.#sessions.verify(r.token, r.user, { allowExpired: true });
          if (check.ok) tokenCurrency = check.currency;
        }
        const currency = rollbackCurrency(tokenCurrency, this.#opts.currency);
        context.currency = currency;
        return operation({ op: 'rollback', provider: this.id, player, currency, currencyUnnamed: true, target: ExternalTxId(r.reference_transaction_uuid), id: ExternalTxId(r.transaction_uuid) });
      }
    }
  }

  async answer(context: Context, outcome: Outcome): Promise<Answer> {
    // A rollback reverses its transaction in that one's currency, whatever the guess (rollbackCurrency).
    const currency = outcome.type !== 'status' ? outcome.currency : undefined;
    return this.#signed(statusFor(outcome, context.endpoint), currency === undefined ? context : { ...context, currency }, outcome.balance);
  }

  /** RS_ERROR_UNKNOWN carries the balance when the gateway could read it after a fault. */
  async fail(problem: Failure, context?: Context, balance?: Minor): Promise<Answer> {
    return this.#signed(FAILURE_STATUS[problem], context, problem === 'fault' ? balance : undefined);
  }

  /** `{user, status, request_uuid, currency, balance}`, each where known, signed with the casino's key. */
  async #signed(status: Status, context?: Context, balance?: Minor): Promise<Answer> {
    const currency = context?.currency;
    const body = JSON.stringify({
      ...(context?.user !== undefined ? { user: context.user } : {}),
      status,
      ...(context?.requestUuid !== undefined ? { request_uuid: context.requestUuid } : {}),
      ...(currency !== undefined ? { currency } : {}),
      ...(currency !== undefined && balance !== undefined ? { balance: hubAmountJson(balance, currency) } : {}),
    });
    return { contentType: 'application/json', body, headers: { [SIGNATURE_HEADER]: await signBody(body, this.#casinoKey) } };
  }

  async #reject(context: Context, refusal: Door, payload?: unknown): Promise<Decoded<Context>> {
    return {
      kind: 'rejected',
      reason: refusal.reason,
      detail: refusal.detail,
      payload,
      ...(context.user !== undefined ? { player: context.user } : {}),
      answer: await this.#signed(refusal.status, context),
    };
  }
}

/** Bytes that are not UTF-8 are refused, not read as U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const door = (reason: Rejection, status: keyof typeof DOOR_STATUS, detail: string): Door => ({ kind: 'rejected', reason, status: DOOR_STATUS[status], detail });

function tryJson(body: Uint8Array): unknown {
  try {
    return parseJsonExact(UTF8.decode(body));
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the answer echoes of a call (its user and request_uuid, where they are text), whatever else is wrong with it. */
function contextOf(payload: unknown, endpoint: Endpoint | undefined): Context {
  const context: Context = { endpoint };
  if (!isObject(payload)) return context;
  if (typeof payload.user === 'string') context.user = payload.user.slice(0, 200);
  if (typeof payload.request_uuid === 'string') context.requestUuid = payload.request_uuid.slice(0, 200);
  return context;
}

/** The value at a zod issue's path in the payload (undefined where a key is missing). */
function valueAt(payload: unknown, path: readonly PropertyKey[]): unknown {
  let value = payload;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Drops the fields the call did not carry. */
const compact = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

export const hub88Dialect: Dialect<Options> = {
  name: 'hub88',
  options,
  create: (id, opts) => new Hub88Adapter(id, opts),
  vendor: (id, opts, transport) =>
    hub88Vendor(opts.currency, opts.api, opts.operatorId, createPrivateKey(opts.casinoPrivateKey.reveal()), new SessionTokens({ instance: id, tokenSecret: opts.tokenSecret, tokenTtlSeconds: opts.tokenTtlSeconds }), transport),
};
