import type { BlockList } from 'node:net';
import type { z } from 'zod';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import type { Outcome, PlayerCode, ProviderId, WalletOperation } from '../wallet/types.ts';
import type { TransportFactory, VendorApi } from './vendor-api.ts';

/** A vendor's webhook as it arrived, before anything was trusted. */
export interface InboundRequest {
  /**
   * Where under the provider's webhook address the call came: '' for POST /callbacks/{provider},
   * '/transaction/bet' for POST /callbacks/{provider}/transaction/bet (dialects with an endpoint per call).
   */
  path: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
  ip: string;
  receivedAt: Date;
}

/** The strictest limit on record (the command dialect's bet and balance), for a dialect that does not say its own. */
export const DEFAULT_ANSWER_WITHIN_MS = 2000;

/** What goes back to the vendor: always HTTP 200, the dialect's body, and the headers it asks for (a signature of the body). */
export interface Answer {
  contentType: string;
  body: string;
  headers?: Readonly<Record<string, string>>;
}

/**
 * How a request reached the adapter. A retry, an operator's replay or an import of a vendor's export
 * is `trusted`: its credentials and freshness were checked when it first arrived (or the operator
 * vouches for it), so only decoding and validation run. `plaintext`: the body is already the decoded
 * payload (a vendor's export of failed notifications), not the wire form.
 */
export interface ReadOptions {
  trusted?: boolean;
  plaintext?: boolean;
}

/** Why a request never reached the wallet. */
export type Rejection = 'unauthorized' | 'malformed' | 'unsupported';

export type Decoded<Context> =
  /**
   * A call the wallet must carry out; `context` is whatever the dialect needs to word its answer;
   * `answerWithinMs`, how long the vendor waits for the answer to this call (the gateway lets a call
   * wait for its turn only while it can still be answered in time; unsaid, DEFAULT_ANSWER_WITHIN_MS).
   */
  | { kind: 'operation'; payload: unknown; operation: WalletOperation; context: Context; answerWithinMs?: number }
  /**
   * A call refused at the door (bad credentials, undecryptable or malformed body), already answered;
   * `player`, when the adapter could read who the call names, lets operators find it in the history.
   * `withBalance`, where the dialect's refusal carries the player's balance, words it once the
   * gateway has read the balance (it answers `answer` when it cannot).
   */
  | {
      kind: 'rejected';
      payload?: unknown;
      player?: string | undefined;
      reason: Rejection;
      detail: string;
      answer: Answer;
      withBalance?: { player: PlayerCode; currency: Currency; answer(balance: Minor): Promise<Answer> };
    };

/**
 * One configured provider instance of a dialect. The adapter only translates: it reads and
 * authenticates a request, turns it into one wallet operation, and turns the wallet's outcome into
 * the dialect's answer. It never decides a money rule.
 */
export interface ProviderAdapter<Context = unknown> {
  readonly id: ProviderId;
  readonly dialect: string;
  /**
   * Lower-case names of the request headers that carry this instance's credentials (a token, a key,
   * a signature): their values never reach a log line or the webhook history.
   */
  readonly credentialHeaders: readonly string[];
  /**
   * True when the dialect's result settles its round (every open line settled, nothing joins it
   * after): a win of the vendor's that reconciliation pays in its place then settles the round too,
   * so the late result is a repeat and no change or cancel after it pays again. Otherwise rounds stay
   * open to further bets and wins, or the dialect says per call which win closes one.
   */
  readonly resultSettlesRound?: boolean;
  read(request: InboundRequest, options?: ReadOptions): Promise<Decoded<Context>>;
  answer(context: Context, outcome: Outcome): Promise<Answer>;
  /**
   * The dialect's answer when no outcome exists: an internal fault, a body the gateway could not read
   * (over BODY_LIMIT, or not decodable under its Content-Encoding), a caller not on the allow-list. `balance`: the player's, when the gateway could still read it after a fault.
   */
  fail(problem: Failure, context?: Context, balance?: Minor): Promise<Answer>;
}

export type Failure = 'fault' | 'unreadable' | 'forbidden';

/** A dialect: validates its instances' options at load, and builds an adapter for each instance. */
export interface Dialect<Options = any> {
  readonly name: string;
  readonly options: z.ZodType<Options>;
  create(id: ProviderId, options: Options): ProviderAdapter;
  /** The vendor's own API for an instance (vendor-api.ts), when the dialect has one and the instance configures it. */
  vendor?(id: ProviderId, options: Options, transport: TransportFactory): VendorApi | undefined;
}

/** A configured provider: its adapter, and the addresses allowed to call it (null: any). */
export interface ProviderInstance {
  readonly id: ProviderId;
  readonly adapter: ProviderAdapter;
  readonly allowFrom: BlockList | null;
  /** Builds the instance's outbound client on the gateway's transport; undefined when it has none. */
  readonly vendor: (transport: TransportFactory) => VendorApi | undefined;
}
