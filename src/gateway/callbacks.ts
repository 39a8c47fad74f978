import type { Logger } from 'pino';
import type { Wallet } from '../wallet/wallet.ts';
import type { Answer, InboundRequest, ProviderAdapter } from './contract.ts';

/**
 * From a vendor's request to its answer: the adapter reads it, the wallet applies it, the adapter
 * words the outcome. Any fault becomes the dialect's failure answer, never an exception to the vendor.
 */
export async function handleCallback(adapter: ProviderAdapter, wallet: Wallet, request: InboundRequest, log: Logger): Promise<Answer> {
  let decoded;
  try {
    decoded = await adapter.read(request);
  } catch (error) {
    log.error({ err: error, provider: adapter.id }, 'adapter failed to read a request');
    return adapter.fail('fault');
  }
  if (decoded.kind === 'rejected') {
    log.warn({ provider: adapter.id, reason: decoded.reason, detail: decoded.detail }, 'callback rejected');
    return decoded.answer;
  }
  try {
    const outcome = await wallet.execute(decoded.operation);
    return adapter.answer(decoded.context, outcome);
  } catch (error) {
    log.error({ err: error, provider: adapter.id, op: decoded.operation.op }, 'wallet operation failed');
    return adapter.fail('fault', decoded.context);
  }
}
