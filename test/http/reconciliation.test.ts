import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/** /v1/reconciliation/import as a client sends it: a vendor's export, whatever content type it says. */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw?.close());

describe('POST /v1/reconciliation/import', () => {
  it('reads a JSON array sent as application/json, larger than BODY_LIMIT, as it reads one sent as text', async () => {
    const at = new Date().toISOString();
    // About 100 kB: more than BODY_LIMIT (64kb), far less than IMPORT_BODY_LIMIT.
    const records = Array.from({ length: 800 }, (_, i) => ({ id: `json-export-${i}`, kind: 'bet', user: 'json-export-player', round: `round-${i}`, amount: '2.00', at }));
    const body = JSON.stringify(records);
    expect(body.length).toBeGreaterThan(64 * 1024);
    const q = new URLSearchParams({ provider: 'dowinn', currency: 'USD', from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
    for (const type of ['application/json', 'text/plain']) {
      const res = await fetch(`${gw.url}/v1/reconciliation/import?${q}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': type },
        body,
      });
      const answer = (await res.json()) as { vendorRecords: number; source: string; findings: { kind: string }[] };
      expect({ type, status: res.status }).toEqual({ type, status: 201 });
      expect(answer.source).toBe('import');
      expect(answer.vendorRecords).toBe(800);
    }
    const runs = await gw.gateway.db.selectFrom('vendor_reconcile_runs').select(['provider_id', 'vendor_records']).execute();
    expect(runs).toEqual([
      { provider_id: 'dowinn', vendor_records: 800 },
      { provider_id: 'dowinn', vendor_records: 800 },
    ]);
  });
});
