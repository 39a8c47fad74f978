import express from 'express';
import { z } from 'zod';
import { html } from '../console/html.ts';
import type { Role } from '../ledger/schema.ts';
import { catalogueRequest, launchRequest } from '../vendors/wire.ts';
import { cashierRequest, historyRequest, newPlayer } from '../wallet/backoffice-wire.ts';
import { replayRequest, searchRequest } from '../webhooks/wire.ts';
import { allow } from './auth.ts';
import { auditRequest, newOperator, passwordChange, roleChange } from './operators.ts';
import { ggrRequest } from './reports.ts';
import { findingsRequest, importRequest, resolveRequest, runRequest, runsRequest } from './reconciliation.ts';
import { importQuery } from './webhooks.ts';

/** One /v1 operation, declared once, with the very zod schemas its route validates with. */
export interface Operation {
  method: 'get' | 'post';
  /** OpenAPI form: /players/{code} (under /v1). */
  path: string;
  summary: string;
  role: Role;
  query?: z.ZodType;
  body?: z.ZodType;
  /** A body that is not JSON (an import): its media type and what it holds. */
  rawBody?: { mediaType: string; description: string };
  /** What a success answers. */
  answers: string;
}

const op = (method: Operation['method'], path: string, role: Role, summary: string, answers: string, extra: Partial<Operation> = {}): Operation => ({ method, path, role, summary, answers, ...extra });

/**
 * Every /v1 operation. A test walks the routers /v1 mounts and fails when a route is missing here
 * (or listed here without a route); declaring a new route is one line.
 */
export const V1: readonly Operation[] = [
  op('get', '/me', 'viewer', 'Who is calling: name, role, how, until when', 'the caller'),
  op('get', '/operators', 'admin', 'Operator accounts', 'the accounts'),
  op('post', '/operators', 'admin', 'Adds an operator account (audited)', 'the account, 201', { body: newOperator }),
  op('post', '/operators/{name}/disable', 'admin', 'Disables an account and ends its sessions (audited; never the last admin)', 'the account'),
  op('post', '/operators/{name}/enable', 'admin', 'Enables an account (audited)', 'the account'),
  op('post', '/operators/{name}/role', 'admin', "Changes an account's role (audited; never the last admin)", 'the account', { body: roleChange }),
  op('post', '/operators/{name}/password', 'viewer', "Sets a password: an admin anyone's, a person signed in to the console their own (audited)", 'the account', { body: passwordChange }),
  op('get', '/audit', 'viewer', 'The audit trail, newest first, filtered and paged by id', 'events and the next page', { query: auditRequest }),
  op('get', '/reports/ggr', 'viewer', 'Revenue (GGR) per day or month, provider, game and currency, as JSON or CSV', 'rows, or CSV with format=csv', { query: ggrRequest }),
  op('get', '/providers', 'viewer', 'The configured provider instances and their vendor APIs', 'the providers'),
  op('get', '/providers/{provider}/studios', 'viewer', "The vendor's studios (an aggregating vendor)", 'the studios', { query: catalogueRequest }),
  op('get', '/providers/{provider}/games', 'viewer', "The vendor's game catalogue", 'the games', { query: catalogueRequest }),
  op('get', '/players/{code}/providers', 'viewer', "The player's registrations at vendors", 'the registrations'),
  op('post', '/players/{code}/providers/{provider}', 'operator', 'Registers the player with the vendor, once (audited)', 'the registration'),
  op('get', '/players/{code}/providers/{provider}', 'viewer', "The player's registration at one vendor", 'the registration'),
  op('post', '/players/{code}/launch', 'operator', 'A game URL for the player at a vendor', 'the URL and session', { body: launchRequest }),
  op('post', '/players', 'operator', 'Creates a player with a wallet per currency (audited)', 'the player, 201', { body: newPlayer }),
  op('get', '/players/{code}', 'viewer', 'A player and their balances', 'the player'),
  op('post', '/players/{code}/block', 'operator', 'Blocks a player: no more bets (audited)', 'the player'),
  op('post', '/players/{code}/unblock', 'operator', 'Lets a blocked player play again (audited)', 'the player'),
  op('post', '/players/{code}/deposits', 'admin', 'Cashier deposit, idempotent on its reference (audited)', 'the new balance; 200 for a repeat, 201 when applied', { body: cashierRequest }),
  op('post', '/players/{code}/withdrawals', 'admin', 'Cashier withdrawal, idempotent on its reference (audited)', 'the new balance; 200 for a repeat, 201 when applied', { body: cashierRequest }),
  op('get', '/players/{code}/balance', 'viewer', "The player's balance per currency", 'the wallets'),
  op('get', '/players/{code}/transactions', 'viewer', "The player's wallet movements, newest first, paged", 'movements and the next page', { query: historyRequest }),
  op('get', '/webhooks', 'viewer', 'Searches the webhook history, newest first, paged', 'webhooks and the next page', { query: searchRequest }),
  op('post', '/webhooks/replay', 'operator', "Replays a provider's failures in a window; all of them, oldest first, page by page; dryRun counts them, lists the ids of the oldest 10,000 and answers the window it counted in (until no later than now: send it back to replay what was counted), changing nothing (audited)", 'the count, or what each replay did', { body: replayRequest }),
  op('post', '/webhooks/import', 'admin', "Processes a vendor's export of failed notifications (audited; its calls are taken on the file's word, so admin). A bet in it is never taken", 'what each notification did', {
    query: importQuery,
    rawBody: { mediaType: 'application/json', description: 'a JSON array or JSON lines of {"body": "<the request body as sent>"} or {"payload": {...}}; up to IMPORT_BODY_LIMIT' },
  }),
  op('get', '/webhooks/{id}', 'viewer', 'One webhook: raw body, decoded payload, operation, outcome, answer, timing; credentials redacted', 'the webhook'),
  op('post', '/webhooks/{id}/replay', 'operator', 'Runs one stored webhook again through its adapter and the wallet rules (audited)', 'what the replay did'),
  op('get', '/reconciliation/runs', 'viewer', 'Reconciliation runs with the vendors, newest first', 'the runs', { query: runsRequest }),
  op('post', '/reconciliation/runs', 'operator', "Compares a provider's period with its vendor's records API; findings are kept (audited)", 'the run and its findings, 201', { body: runRequest }),
  op('post', '/reconciliation/import', 'operator', "Compares a provider's period with an export of its vendor's records (audited)", 'the run and its findings, 201', {
    query: importRequest,
    rawBody: { mediaType: 'text/csv', description: 'CSV with the header id,kind,user,round,amount,at, or a JSON array of those objects; amounts are decimal strings in currency units' },
  }),
  op('get', '/reconciliation/findings', 'viewer', 'Findings of the reconciliation runs, newest first, paged', 'findings and the next page', { query: findingsRequest }),
  op('post', '/reconciliation/findings/{id}/resolve', 'operator', 'Resolves a finding: explain, replay a webhook, or adjust the wallet (admin; audited)', 'the finding', { body: resolveRequest }),
  op('get', '/openapi.json', 'viewer', 'This document (OpenAPI 3.1)', 'the document'),
  op('get', '/docs', 'viewer', 'This document as a page to read', 'HTML'),
];

/** A request schema as JSON Schema (draft 2020-12, what OpenAPI 3.1 uses), as the caller sends it. */
const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
};

/** The OpenAPI 3.1 document of /v1, built from V1 and its zod schemas. */
export function openApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const o of V1) {
    const pathParams = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1]!, in: 'path', required: true, schema: { type: 'string' } }));
    const query = o.query ? schemaOf(o.query) : undefined;
    const queryParams = Object.entries(query?.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (query?.required ?? []).includes(name), schema }));
    const requestBody = o.body
      ? { required: true, content: { 'application/json': { schema: schemaOf(o.body) } } }
      : o.rawBody
        ? { required: true, description: o.rawBody.description, content: { [o.rawBody.mediaType]: { schema: { type: 'string' } } } }
        : undefined;
    (paths[`/v1${o.path}`] ??= {})[o.method] = {
      summary: o.summary,
      description: `Needs the ${o.role} role (or higher: viewer < operator < admin).`,
      'x-required-role': o.role,
      ...(pathParams.length || queryParams.length ? { parameters: [...pathParams, ...queryParams] } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: {
        '200': { description: o.answers, content: { 'application/json': { schema: { type: 'object' } } } },
        '400': { description: 'invalid request (the message says what)', content: { 'application/json': { schema: ERROR } } },
        '401': { description: 'no valid token or session', content: { 'application/json': { schema: ERROR } } },
        '403': { description: `the caller's role is below ${o.role}`, content: { 'application/json': { schema: ERROR } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Croupier back office (/v1)', version, description: "The casino's back office: players, cashier, vendors, webhook history and replays, audit, reports. Amounts are decimal strings in currency units." },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 with ADMIN_JWT_SECRET, naming `role` and `exp` (npm run cli -- token --role <role>)' },
        console: { type: 'apiKey', in: 'cookie', name: 'croupier_session', description: "The console's session; a state change also needs the X-CSRF-Token header" },
      },
    },
    security: [{ bearer: [] }, { console: [] }],
    paths,
  };
}

/** /v1/openapi.json and /v1/docs, a page to read it without any tool (no script, no CDN). */
export function openApiRouter(version: string) {
  const router = express.Router();
  const document = openApiDocument(version);
  router.get('/openapi.json', allow('viewer'), (_req, res) => {
    res.json(document);
  });
  router.get('/docs', allow('viewer'), (_req, res) => {
    const ops = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, o]) => {
        const operation = o as { summary: string; 'x-required-role': string; parameters?: { name: string; in: string; required: boolean; schema: unknown }[]; requestBody?: { content: Record<string, { schema: unknown }>; description?: string } };
        const params = operation.parameters ?? [];
        const body = operation.requestBody ? Object.entries(operation.requestBody.content)[0] : undefined;
        return html`<section class="card" id="${method}-${path}">
<h2><code>${method.toUpperCase()} ${path}</code> <span class="tag">${operation['x-required-role']}</span></h2>
<p>${operation.summary}</p>
${params.length ? html`<table><thead><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th></tr></thead><tbody>${params.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${JSON.stringify(p.schema)}</code></td></tr>`)}</tbody></table>` : ''}
${body ? html`<p>Body (<code>${body[0]}</code>)${operation.requestBody?.description ? html`: ${operation.requestBody.description}` : ''}</p><pre>${JSON.stringify(body[1].schema, null, 2)}</pre>` : ''}
</section>`;
      }),
    );
    res.type('html').send(
      html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Croupier /v1</title><link rel="stylesheet" href="/console/assets/console.css"></head>
<body><main><h1>Croupier back office: <code>/v1</code></h1>
<p>Generated from the zod schemas the routes validate with; machine-readable at <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI 3.1). Every call needs <code>Authorization: Bearer &lt;JWT&gt;</code> (<code>npm run cli -- token --role &lt;role&gt;</code>) or a console session.</p>
${ops}</main></body></html>`.value,
    );
  });
  return router;
}
