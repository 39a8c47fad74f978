import type { BlockList } from 'node:net';
import type { z } from 'zod';
import type { Outcome, ProviderId, WalletOperation } from '../wallet/types.ts';
import type { TransportFactory, VendorApi } from './vendor-api.ts';

/** A vendor's webhook as it arrived, before anything was trusted. */
export interface InboundRequest {
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
  ip: string;
  receivedAt: Date;
}

/** What goes back to the vendor: always HTTP 200, the dialect's body. */
export interface Answer {
  contentType: string;
  body: string;
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
  /** A call the wallet must carry out; `context` is whatever the dialect needs to word its answer. */
  | { kind: 'operation'; payload: unknown; operation: WalletOperation; context: Context }
  /** A call refused at the door (bad credentials, undecryptable or malformed body), already answered. */
  | { kind: 'rejected'; payload?: unknown; reason: Rejection; detail: string; answer: Answer };

/**
 * One configured provider instance of a dialect. The adapter only translates: it reads and
 * authenticates a request, turns it into one wallet operation, and turns the wallet's outcome into
 * the dialect's answer. It never decides a money rule.
 */
export interface ProviderAdapter<Context = unknown> {
  readonly id: ProviderId;
  readonly dialect: string;
  read(request: InboundRequest, options?: ReadOptions): Promise<Decoded<Context>>;
  answer(context: Context, outcome: Outcome): Promise<Answer>;
  /** The dialect's answer when no outcome exists: an internal fault, a body too large, a caller not on the allow-list. */
  fail(problem: Failure, context?: Context): Promise<Answer>;
}

export type Failure = 'fault' | 'too_large' | 'forbidden';

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
