import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Mount } from '../../src/http/app.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * /v1's OpenAPI 3.1 document is generated from the zod schemas the routes validate with; these tests
 * hold it to the routes that exist: a route /v1 serves but the document lacks (or the reverse) fails.
 */

let gw: TestGateway;
let token: string;
let doc: { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown> }[]; requestBody?: unknown; 'x-required-role': string }>>; components: { securitySchemes: Record<string, unknown> } };

beforeAll(async () => {
  gw = await startTestGateway();
  token = await gw.adminToken('viewer');
  const res = await fetch(`${gw.url}/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});
afterAll(() => gw?.close());

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route the /v1 routers serve, as "METHOD /v1/path/{param}". */
function servedRoutes(): string[] {
  const mounts = gw.gateway.app.locals.v1 as V1Mount[];
  return mounts.flatMap(([prefix, router]) =>
    (router as unknown as { stack: Layer[] }).stack
      .filter((layer) => layer.route)
      .flatMap((layer) =>
        Object.keys(layer.route!.methods)
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} /v1${prefix}${layer.route!.path === '/' ? '' : layer.route!.path.replace(/:(\w+)/g, '{$1}')}`),
      ),
  );
}

const documented = () => Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));

describe('/v1/openapi.json', () => {
  it('is OpenAPI 3.1 with both ways in (bearer token, console session)', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'console']);
  });

  it('lists every route /v1 serves, and nothing else', () => {
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(20);
    expect(served.filter((r) => !documented().includes(r)), 'served but not in the document').toEqual([]);
    expect(documented().filter((r) => !served.includes(r)), 'in the document but not served').toEqual([]);
  });

  it("describes a route's input as its zod schema checks it", async () => {
    const audit = doc.paths['/v1/audit']!.get!;
    const limit = audit.parameters!.find((p) => p.name === 'limit')!;
    expect(limit.in).toBe('query');
    expect(limit.schema.maximum).toBe(500);
    // What the document says is too much, the route refuses.
    const refused = await fetch(`${gw.url}/v1/audit?limit=501`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(400);
    const accepted = await fetch(`${gw.url}/v1/audit?limit=500`, { headers: { authorization: `Bearer ${token}` } });
    expect(accepted.status).toBe(200);
    const deposit = doc.paths['/v1/players/{code}/deposits']!.post!;
    expect(deposit['x-required-role']).toBe('admin');
    expect(JSON.stringify(deposit.requestBody)).toContain('"reference"');
  });

  it('is browsable at /v1/docs, and needs a signed-in caller like the rest of /v1', async () => {
    const page = await fetch(`${gw.url}/v1/docs`, { headers: { authorization: `Bearer ${token}` } });
    expect(page.status).toBe(200);
    const text = await page.text();
    for (const path of Object.keys(doc.paths)) expect(text).toContain(path);
    expect((await fetch(`${gw.url}/v1/openapi.json`)).status).toBe(401);
  });
});
