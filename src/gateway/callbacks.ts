import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { PgError, pgErrorCode } from '../ledger/database.ts';
import type { WebhookOutcome } from '../ledger/schema.ts';
import { TooLate } from '../locks/admission.ts';
import type { WalletExecutor } from '../locks/player-lock.ts';
import type { Parking } from '../queue/parking.ts';
import { newCaptureId, redactHeaders, type WebhookHistory, type WebhookRecord } from '../webhooks/history.ts';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import { OWED, type Outcome, type PlayerCode, type WalletOperation } from '../wallet/types.ts';
import { DEFAULT_ANSWER_WITHIN_MS, type Answer, type Decoded, type InboundRequest, type ProviderInstance } from './contract.ts';

/** Time kept for writing the answer and its way back to the vendor: a call is answered this long before the vendor's limit. */
const ANSWER_MARGIN_MS = 150;

export interface Observation {
  provider: string;
  operation: string;
  outcome: WebhookOutcome;
  seconds: number;
}

export interface PipelineDeps {
  wallet: WalletExecutor;
  /** The player's balance, read without waiting for anything (a dialect's failure answers carry it where they can); undefined when it cannot be read now. */
  /** With `op`, only the balance an answer to it may carry (Wallet.peek). */
  peek(player: PlayerCode, currency: Currency, op?: WalletOperation): Promise<Minor | undefined>;
  history: WebhookHistory;
  /** Absent where no queue is configured: faults are then only answered and recorded. */
  parking: Parking | null;
  observe(observation: Observation): void;
  log: Logger;
}

/** Where a call comes from. A vendor's call is checked in full; the others are trusted re-reads of one. */
export type Mode =
  | { source: 'vendor' }
  | { source: 'retry'; replayOf: bigint }
  | { source: 'replay' | 'import'; replayOf?: bigint; plaintext?: boolean };

export interface Processed {
  answer: Answer;
  outcome: WebhookOutcome;
  detail?: string | undefined;
  /** The history record's id (absent when Postgres could not take it and Redis holds it). */
  webhookId?: bigint | undefined;
}

/** A retry that still fails on a fault: BullMQ tries it again later. */
export class StillFailing extends Error {}

/**
 * From a vendor's request to its answer: the adapter reads it, the wallet applies it (in line behind
 * the player's lock), the adapter words the outcome. Every call is kept in the webhook history. A
 * fault becomes the dialect's failure answer, never an exception to the vendor; a credit or rollback
 * that hit one is parked and applied later (nothing acknowledged is lost, nothing owed is withheld).
 */
export class Pipeline {
  readonly #deps: PipelineDeps;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
  }

  async handle(instance: ProviderInstance, request: InboundRequest, mode: Mode = { source: 'vendor' }): Promise<Processed> {
    const started = performance.now();
    // One capture id for this call, whichever way its record is written (see WebhookHistory.record).
    const captureId = newCaptureId();
    const { adapter } = instance;
    const { log } = this.#deps;
    const trusted = mode.source !== 'vendor';
    const plaintext = 'plaintext' in mode && mode.plaintext === true;
    let decoded: Decoded<unknown> | undefined;
    let outcome: WebhookOutcome;
    let detail: string | undefined;
    let answer: Answer;
    let parked = false;
    let keptId: bigint | undefined;

    if (!trusted && !allowed(instance, request.ip)) {
      [outcome, detail, answer] = ['rejected', `address ${request.ip} is not allowed`, await adapter.fail('forbidden')];
    } else {
      try {
        decoded = await adapter.read(request, { trusted, plaintext });
      } catch (error) {
        log.error({ err: error, provider: adapter.id }, 'adapter failed to read a request');
        decoded = undefined;
      }
      if (!decoded) {
        [outcome, detail, answer] = ['fault', 'the adapter failed to read the request', await adapter.fail('fault')];
      } else if (mode.source === 'import' && decoded.kind === 'operation' && decoded.operation.op === 'debit') {
        // A vendor lists a bet among its failed notifications because it was not told the bet was taken:
        // for the vendor, and the player at its table, the bet failed. Taking it now would take a stake from a game never played.
        [outcome, detail, answer] = ['rejected', 'an imported bet is never taken: the vendor counts it as failed', await adapter.fail('forbidden', decoded.context)];
      } else if (decoded.kind === 'rejected') {
        const balance = decoded.withBalance && decoded.reason !== 'unauthorized' ? await this.#deps.peek(decoded.withBalance.player, decoded.withBalance.currency) : undefined;
        const said = balance === undefined ? decoded.answer : await decoded.withBalance!.answer(balance);
        [outcome, detail, answer] = ['rejected', `${decoded.reason}: ${decoded.detail}`, said];
      } else {
        const { operation, context } = decoded;
        let stored: Promise<bigint> | undefined;
        // A vendor is waiting: its answer must be on its way before its limit (less a margin for the way back).
        const call = trusted ? undefined : { deadline: started - (Date.now() - request.receivedAt.getTime()) + (decoded.answerWithinMs ?? DEFAULT_ANSWER_WITHIN_MS) - ANSWER_MARGIN_MS };
        try {
          // The history row commits with the money it describes: one transaction, one disk flush. Its
          // insert is not awaited inside the transaction: the COMMIT goes right behind it, in the same
          // write and round trip (the wallet pipelines an operation's statements, alone or in a group),
          // and if the insert fails the COMMIT rolls the money back with it.
          const kept = await this.#deps.wallet.execute(operation, async (trx, result) => {
            const said = await adapter.answer(context, result);
            const [o, d] = classify(result);
            stored = this.#deps.history.recordIn(trx, this.#recordOf(captureId, instance, request, mode, decoded, o, d, said, started));
            stored.catch(() => {}); // reported by the failed COMMIT, below
            return { said, o, d };
          }, call);
          [outcome, detail, answer, keptId] = [kept.o, kept.d, kept.said, await stored];
        } catch (failure) {
          // A COMMIT that rolled back for the history insert names the insert's error, not its own;
          // an insert that failed only because a statement before it had is not the cause.
          const insert = await stored?.then(() => undefined, (error: unknown) => error);
          const error = insert !== undefined && pgErrorCode(insert) !== PgError.inFailedTransaction ? insert : failure;
          // A call that could not start in time is answered at once, without the balance: reading it
          // would wait for the database the call could not get in time. That is the gateway keeping
          // its deadlines under load (counted by the admission metrics), not an error to log each time.
          const late = failure instanceof TooLate;
          if (!late) log.error({ err: error, provider: adapter.id, op: operation.op, player: operation.player }, 'wallet operation failed');
          const balance = late ? undefined : await this.#deps.peek(operation.player, operation.currency, operation);
          [outcome, detail, answer] = ['fault', (error as Error).message, await adapter.fail('fault', context, balance)];
        }
      }
    }

    const operation = decoded?.kind === 'operation' ? decoded.operation : undefined;
    this.#deps.observe({ provider: instance.id, operation: operation?.op ?? 'none', outcome, seconds: (performance.now() - started) / 1000 });
    // Rejected, it did not reach the wallet either (a key rotated since): tried again, then left to operators.
    if (mode.source === 'retry' && (outcome === 'fault' || outcome === 'rejected')) throw new StillFailing(detail);
    // Kept with the money, and with it the failure it settled, if this was a retry or replay.
    if (keptId !== undefined) return { answer, outcome, detail, webhookId: keptId };

    const record = this.#recordOf(captureId, instance, request, mode, decoded, outcome, detail, answer, started);
    if (outcome === 'fault' && mode.source === 'vendor' && operation && OWED.has(operation.op) && this.#deps.parking) {
      try {
        await this.#deps.parking.park({ ...record, outcome: 'parked' });
        record.outcome = 'parked';
        parked = true;
      } catch (error) {
        log.error({ err: error, provider: instance.id, op: operation.op }, 'could not park an owed operation; the vendor must retry it');
      }
    }
    const webhookId = await this.#keep(record, parked, mode.source === 'retry');
    return { answer, outcome: record.outcome, detail, webhookId };
  }

  #recordOf(
    captureId: string,
    instance: ProviderInstance,
    request: InboundRequest,
    mode: Mode,
    decoded: Decoded<unknown> | undefined,
    outcome: WebhookOutcome,
    detail: string | undefined,
    answer: Answer,
    started: number,
  ): WebhookRecord {
    const operation = decoded?.kind === 'operation' ? decoded.operation : undefined;
    return {
      captureId,
      provider: instance.id,
      receivedAt: mode.source === 'vendor' ? request.receivedAt : new Date(),
      source: mode.source,
      headers: redactHeaders(request.headers, instance.adapter.credentialHeaders),
      body: request.body,
      path: request.path,
      plaintext: 'plaintext' in mode && mode.plaintext === true,
      payload: decoded?.payload,
      operation,
      player: operation?.player ?? (decoded?.kind === 'rejected' ? decoded.player?.slice(0, 100) : undefined),
      transactionId: operation ? transactionOf(operation) : undefined,
      outcome,
      detail,
      answer: answer.body,
      durationMs: performance.now() - started,
      replayOf: mode.source === 'vendor' ? undefined : mode.replayOf,
    };
  }

  /**
   * A vendor's request answered before its body was read (larger than the body limit): the dialect's
   * answer, kept in the history like any call, without the body it never read.
   */
  async unread(instance: ProviderInstance, request: InboundRequest, problem: 'unreadable', detail: string): Promise<Answer> {
    const started = performance.now();
    const answer = await instance.adapter.fail(problem);
    const seconds = (performance.now() - started) / 1000;
    this.#deps.observe({ provider: instance.id, operation: 'none', outcome: 'rejected', seconds });
    await this.#keep(
      {
        captureId: newCaptureId(),
        provider: instance.id,
        receivedAt: request.receivedAt,
        source: 'vendor',
        headers: redactHeaders(request.headers, instance.adapter.credentialHeaders),
        body: request.body,
        path: request.path,
        outcome: 'rejected',
        detail,
        answer: answer.body,
        durationMs: seconds * 1000,
      },
      false,
    );
    return answer;
  }

  /**
   * Writes the record (with it, the resolution of the failure it settles); while Postgres is away it
   * waits in Redis (a parked call's job carries it already). A parked call's retry does not: it fails
   * instead, and its job runs again later (the ledger applies its transaction once).
   */
  async #keep(record: WebhookRecord, carriedByParking: boolean, retrying = false): Promise<bigint | undefined> {
    const { history, parking, log } = this.#deps;
    try {
      return await history.record(record);
    } catch (error) {
      if (retrying) throw new StillFailing(`its record could not be kept: ${(error as Error).message}`);
      if (carriedByParking) return undefined;
      try {
        if (!parking) throw error;
        await parking.keepHistory(record);
      } catch (lost) {
        log.error({ err: lost, provider: record.provider, capture: record.captureId }, 'webhook history record lost: neither Postgres nor Redis took it');
      }
      return undefined;
    }
  }
}

function classify(outcome: Outcome): [WebhookOutcome, string | undefined] {
  switch (outcome.type) {
    case 'ok':
    case 'status':
      return ['ok', undefined];
    case 'duplicate':
      return ['duplicate', undefined];
    case 'refused':
      return ['refused', outcome.detail ? `${outcome.reason}: ${outcome.detail}` : outcome.reason];
  }
}

function transactionOf(op: WalletOperation): string | undefined {
  if (op.op === 'rollback') return op.target;
  return 'txId' in op ? op.txId : undefined;
}

function allowed(instance: ProviderInstance, ip: string): boolean {
  if (!instance.allowFrom) return true;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1]; // an IPv4 client on a dual-stack socket
  const address = v4 ?? ip;
  return instance.allowFrom.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}
