import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { VendorError } from '../gateway/vendor-api.ts';
import { PlayerCode } from '../wallet/types.ts';
import type { Vendors, VendorsRefusal } from '../vendors/vendors.ts';
import {
  VENDOR_STATUS,
  catalogueRequest,
  gameJson,
  launchJson,
  launchRequest,
  providerJson,
  registrationJson,
  studioJson,
  vendorRefusalJson,
} from '../vendors/wire.ts';
import { actorOf, allow } from './auth.ts';
import type { Audit } from '../operators/audit.ts';

const refusal = (res: Response, failed: { reason: VendorsRefusal | VendorError; detail: string }) => {
  if (failed.reason === 'busy' || failed.reason === 'maintenance') res.set('retry-after', '5');
  return res.status(VENDOR_STATUS[failed.reason]).json(vendorRefusalJson(failed.reason, failed.detail));
};

const invalid = (res: Response, error: z.ZodError) =>
  res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(error) } });

type Params = { code: string; provider: string };

/**
 * The casino's calls to its vendors: /v1 (authenticated there). One shape for every provider, whatever
 * its dialect. Reading is a viewer's; registering a player and launching a game, an operator's.
 */
export function vendorsRouter(vendors: Vendors, audit: Audit, bodyLimit: string) {
  const router = express.Router();
  router.use(express.json({ limit: bodyLimit }));

  router.get('/providers', allow('viewer'), (_req, res) => {
    res.json({ providers: vendors.providers().map(providerJson) });
  });

  router.get('/providers/:provider/studios', allow('viewer'), async (req: Request<Params>, res) => {
    const query = catalogueRequest.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const result = await vendors.studios(req.params.provider, query.data.lang);
    if (!result.ok) return refusal(res, result);
    res.json({ provider: req.params.provider, studios: result.value.map(studioJson) });
  });

  router.get('/providers/:provider/games', allow('viewer'), async (req: Request<Params>, res) => {
    const query = catalogueRequest.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const result = await vendors.games(req.params.provider, query.data);
    if (!result.ok) return refusal(res, result);
    const { currency, games } = result.value;
    res.json({ provider: req.params.provider, currency, games: games.map((g) => gameJson(g, currency)) });
  });

  router.get('/players/:code/providers', allow('viewer'), async (req: Request<Params>, res) => {
    const result = await vendors.registrations(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result);
    res.json({ player: req.params.code, registrations: result.value.map(registrationJson) });
  });

  router.post('/players/:code/providers/:provider', allow('operator'), async (req: Request<Params>, res) => {
    const result = await vendors.register(PlayerCode(req.params.code), req.params.provider);
    const target = `${req.params.code}@${req.params.provider}`;
    await audit.record({ actor: actorOf(req, res), action: 'vendor_register', target, outcome: result.ok ? 'ok' : 'refused', detail: result.ok ? { created: result.created } : { reason: result.reason } });
    if (!result.ok) return refusal(res, result);
    res.status(result.created ? 201 : 200).json(registrationJson(result.value));
  });

  router.get('/players/:code/providers/:provider', allow('viewer'), async (req: Request<Params>, res) => {
    const result = await vendors.user(PlayerCode(req.params.code), req.params.provider);
    if (!result.ok) return refusal(res, result);
    res.json({ ...registrationJson(result.value.registration), vendor: result.value.vendor ?? null });
  });

  router.post('/players/:code/launch', allow('operator'), async (req: Request<Params>, res) => {
    const body = launchRequest.safeParse(req.body ?? {});
    if (!body.success) return invalid(res, body.error);
    const { provider, ...options } = body.data;
    const result = await vendors.launch(PlayerCode(req.params.code), provider, options);
    if (!result.ok) return refusal(res, result);
    res.json(launchJson(result.value));
  });

  return router;
}
