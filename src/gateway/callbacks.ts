import type { Logger } from 'pino';
import type { Wallet } from '../wallet/wallet.ts';
import { isIPv4 } from 'node:net';
import type { Answer, InboundRequest, ProviderInstance } from './contract.ts';

/**
 * From a vendor's request to its answer: the adapter reads it, the wallet applies it, the adapter
 * words the outcome. Any fault becomes the dialect's failure answer, never an exception to the vendor.
 */
export async function handleCallback(instance: ProviderInstance, wallet: Wallet, request: InboundRequest, log: Logger): Promise<Answer> {
  const { adapter } = instance;
  if (!allowed(instance, request.ip)) {
    log.warn({ provider: adapter.id, ip: request.ip }, 'callback from an address not on the allow-list');
    return adapter.fail('forbidden');
  }
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
    return await adapter.answer(decoded.context, outcome);
  } catch (error) {
    log.error({ err: error, provider: adapter.id, op: decoded.operation.op }, 'wallet operation failed');
    return adapter.fail('fault', decoded.context);
  }
}

function allowed(instance: ProviderInstance, ip: string): boolean {
  if (!instance.allowFrom) return true;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1]; // an IPv4 client on a dual-stack socket
  const address = v4 ?? ip;
  return instance.allowFrom.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}
