import { expect } from 'vitest';
import type * as ev from '../event/helpers.ts';
import type { TestGateway } from '../support/gateway.ts';

/** What /v1/reconciliation/import answers, as these tests read it. */
export type Summary = { matched: number; vendorRecords: number; cleared: number; findings: { id: string; kind: string; key: string; player: string | null; currency: string | null; detail: string; state: string }[] };

/** Imports a provider's export (an event-dialect one's, dowinn, unless told) in `currency` for the period from `since` to a minute from now. */
export async function importExport(gw: TestGateway, since: Date, currency: string, csv: string, provider = 'dowinn'): Promise<Summary> {
  const q = new URLSearchParams({ provider, currency, from: since.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
  const res = await fetch(`${gw.url}/v1/reconciliation/import?${q}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': 'text/csv' },
    body: csv,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Summary;
}

/** An export's CSV: the header, then each row (id, kind, user, round, amount) stamped now. */
export const csvOf = (rows: string[][]) => ['id,kind,user,round,amount,at', ...rows.map((r) => [...r, new Date().toISOString()].join(','))].join('\n');

/** An event round's id as the vendor's export names it. */
export const roundOf = (r: ev.Round) => `${r.table_no}:${r.game_no}`;

/** What resolving a finding over /v1 answers, as these tests read it. */
export type Resolved = { status: number; json: { state?: string; resolution?: Record<string, unknown>; error?: { message: string } } };

/** Resolves finding `id` over /v1 as an admin (the role an adjustment needs). */
export async function resolveFinding(gw: TestGateway, id: string, body: object): Promise<Resolved> {
  const res = await fetch(`${gw.url}/v1/reconciliation/findings/${id}/resolve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await gw.adminToken('admin')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Resolved['json'] };
}
