import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Pipeline } from '../gateway/callbacks.ts';
import type { Answer, Failure, ProviderInstance } from '../gateway/contract.ts';

/**
 * POST /callbacks/{providerId}: every vendor's webhook. The body is read raw (the adapter decodes it:
 * JSON for one dialect, ciphertext for another) and every answer is HTTP 200 in the vendor's dialect,
 * a body too large or unreadable included.
 */
export function callbackRouter(instances: ReadonlyMap<string, ProviderInstance>, pipeline: Pipeline, bodyLimit: string, log: Logger) {
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: bodyLimit });
  const send = (res: Response, answer: Answer) => res.status(200).set(answer.headers ?? {}).type(answer.contentType).send(answer.body);

  // A dialect with an endpoint per call is called under its provider's address (/callbacks/hub88/transaction/bet).
  router.post('/:providerId{/*rest}', (req: Request<{ providerId: string }>, res: Response) => {
    const instance = instances.get(req.params.providerId);
    if (!instance) {
      res.status(404).json({ error: { code: 'unknown_provider', message: `no provider ${JSON.stringify(req.params.providerId)}` } });
      return;
    }
    const receivedAt = new Date();
    const path = req.path.slice(req.params.providerId.length + 1);
    const { adapter } = instance;
    const failed = (problem: Failure, error: unknown) => {
      log.warn({ provider: adapter.id, err: error }, 'callback failed before an answer');
      adapter.fail(problem).then(
        (answer) => send(res, answer),
        () => res.status(200).end(),
      );
    };
    readBody(req, res, (error?: unknown) => {
      if ((error as { type?: string } | undefined)?.type === 'entity.too.large') {
        const unread = { path, headers: req.headers, body: Buffer.alloc(0), ip: req.ip ?? '', receivedAt };
        pipeline.unread(instance, unread, 'too_large', `body larger than BODY_LIMIT (${bodyLimit})`).then(
          (answer) => send(res, answer),
          (fault: unknown) => failed('too_large', fault),
        );
        return;
      }
      if (error) {
        failed('fault', error);
        return;
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      pipeline.handle(instance, { path, headers: req.headers, body, ip: req.ip ?? '', receivedAt }).then(
        (processed) => send(res, processed.answer),
        (fault: unknown) => failed('fault', fault),
      );
    });
  });
  return router;
}
