import express, { type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Pipeline } from '../gateway/callbacks.ts';
import type { Answer, Failure, ProviderInstance } from '../gateway/contract.ts';

/**
 * POST /callbacks/{providerId}: every vendor's webhook. The body is read raw (the adapter decodes it:
 * JSON for one dialect, ciphertext for another) and every answer is HTTP 200 in the vendor's dialect,
 * a body too large or undecodable included (kept in the history, answered as bad input).
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
      const why = error === undefined ? undefined : unreadable(error as BodyError, bodyLimit);
      if (why !== undefined) {
        // Kept like any call the vendor made (its headers, what was wrong), and answered as bad input.
        const unread = { path, headers: req.headers, body: Buffer.alloc(0), ip: req.ip ?? '', receivedAt };
        pipeline.unread(instance, unread, 'unreadable', why).then(
          (answer) => send(res, answer),
          (fault: unknown) => failed('unreadable', fault),
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

interface BodyError {
  type?: string;
  status?: number;
  message?: string;
}

/**
 * Why a body could not be read, when the fault is the caller's: over BODY_LIMIT, or not decodable under
 * the Content-Encoding it names (a gzip header on plain bytes, an encoding the gateway does not know),
 * or shorter than its Content-Length. A connection the caller dropped, or a fault of ours, is not: undefined.
 */
function unreadable(error: BodyError, bodyLimit: string): string | undefined {
  if (error.type === 'entity.too.large') return `body larger than BODY_LIMIT (${bodyLimit})`;
  if (error.type === 'request.aborted') return undefined;
  if (error.status === 400 || error.status === 415) {
    return `body not readable: ${error.message ?? 'undecodable'}`;
  }
  return undefined;
}
