import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { handleCallback } from '../gateway/callbacks.ts';
import type { Answer, ProviderAdapter } from '../gateway/contract.ts';
import type { Wallet } from '../wallet/wallet.ts';

/**
 * POST /callbacks/{providerId}: every vendor's webhook. The body is read raw (the adapter decodes it:
 * JSON for one dialect, ciphertext for another) and every answer is HTTP 200 in the vendor's dialect,
 * a body too large or unreadable included.
 */
export function callbackRouter(adapters: ReadonlyMap<string, ProviderAdapter>, wallet: Wallet, bodyLimit: string, log: Logger) {
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: bodyLimit });
  const send = (res: Response, answer: Answer) => res.status(200).type(answer.contentType).send(answer.body);

  router.post('/:providerId', (req: Request<{ providerId: string }>, res: Response) => {
    const adapter = adapters.get(req.params.providerId);
    if (!adapter) {
      res.status(404).json({ error: { code: 'unknown_provider', message: `no provider ${JSON.stringify(req.params.providerId)}` } });
      return;
    }
    const receivedAt = new Date();
    readBody(req, res, (error?: unknown) => {
      if (error) {
        const tooLarge = (error as { type?: string }).type === 'entity.too.large';
        log.warn({ provider: adapter.id, err: error }, 'callback body could not be read');
        send(res, adapter.fail(tooLarge ? 'too_large' : 'fault'));
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      handleCallback(adapter, wallet, { headers: req.headers, body, ip: req.ip ?? '', receivedAt }, log).then(
        (answer) => send(res, answer),
        (fault: unknown) => {
          log.error({ err: fault, provider: adapter.id }, 'callback failed');
          send(res, adapter.fail('fault'));
        },
      );
    });
  });
  return router;
}
