import { expect, it } from 'vitest';
import type { Exchange, VendorCall } from '../../src/gateway/vendor-api.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { apiOptions, commandVendor } from '../../providers/command/vendor.ts';

/**
 * The command-dialect vendor's transaction list is read in windows of an hour and pages by offset.
 * Windows meet at an instant, and a vendor that counts its end_time in lists a row stamped there in
 * both; a row read twice that way is one transaction, not a vendor that counts its money twice
 * (which the comparison reports). An id listed again with other facts is kept for the comparison.
 */

const row = (id: string, regdate: string, amount = 12.5, trans_type = 1) => ({ trans_id: id, user_code: 'u1', round_id: 'r1', trans_type, trans_amount: amount, regdate });

/** A vendor whose pages are `pages`, in order; `asked` holds the bodies it was asked with. */
function vendorOf(pages: object[][], asked: string[] = []) {
  const send = async (call: VendorCall): Promise<Exchange> => {
    asked.push(call.body);
    const list = pages[asked.length - 1] ?? [];
    const text = JSON.stringify({ code: 0, data: { total: list.length, list } });
    return { ok: true, status: 200, body: JSON.parse(text), text };
  };
  return commandVendor(asCurrency('USD'), apiOptions.parse({ url: 'http://vendor.test', token: 'vendor-api-token', recordsPauseMs: 0 }), () => ({ send }))!;
}

it('keeps a row read in two windows once, and an id listed again with another amount twice', async () => {
  const asked: string[] = [];
  // 10:00:00 UTC is 19:00:00 in the vendor's zone (UTC+9): the edge of the two windows below.
  const pages = [
    [row('b1', '2026-12-01 18:30:00'), row('edge', '2026-12-01 19:00:00')],
    [row('edge', '2026-12-01 19:00:00'), row('b2', '2026-12-01 19:30:00'), row('b2', '2026-12-01 19:30:00', 99)],
  ];
  const vendor = vendorOf(pages, asked);
  const read = await vendor.records!({ from: new Date('2026-12-01T09:00:00Z'), to: new Date('2026-12-01T11:00:00Z') });
  expect(read).toMatchObject({ ok: true });
  expect(asked).toHaveLength(2);
  expect(read.ok && read.value.map((r) => `${r.id} ${r.amount}`)).toEqual(['b1 1250', 'edge 1250', 'b2 1250', 'b2 9900']);
});

it("reads a bonus call's win (type 32) as a win, and refuses a transfer-mode row by its type", async () => {
  const hour = { from: new Date('2026-12-01T09:00:00Z'), to: new Date('2026-12-01T10:00:00Z') };
  const read = await vendorOf([[row('b1', '2026-12-01 18:10:00'), row('w1', '2026-12-01 18:11:00', 3, 2), row('c1', '2026-12-01 18:12:00', 12.5, 16), row('p1', '2026-12-01 18:13:00', 7, 32)]]).records!(hour);
  expect(read.ok && read.value.map((r) => `${r.id} ${r.kind} ${r.amount}`)).toEqual(['b1 bet 1250', 'w1 win 300', 'c1 cancel 1250', 'p1 win 700']);
  const deposit = await vendorOf([[row('b1', '2026-12-01 18:10:00'), row('d1', '2026-12-01 18:11:00', 50, 4)]]).records!(hour);
  expect(deposit).toMatchObject({ ok: false });
  expect(!deposit.ok && deposit.detail).toContain('trans_type 4 is not a seamless-wallet transaction');
});
