import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import { runCli } from '../support/cli.ts';
import type { TestGateway } from '../support/gateway.ts';
import { holdWallet, startFaultyGateway, vendorRowOf } from '../webhooks/helpers.ts';

/** `npm run cli -- webhooks ...` as an operator runs it, against a gateway's database and Redis. */

const SCORPIO = 'scorpio-play';

let gw: TestGateway;
const cli = (args: string[]) => runCli(args, { DATABASE_URL: gw.database.url, REDIS_PREFIX: gw.config.redis.prefix });


const ROUND = 'r-cw';
const parked = command.transId();
const later = command.transId();
let started: string;

beforeAll(async () => {
  gw = await startFaultyGateway();
  await gw.fund('cw', { USD: '20' });
  await gw.fund('cw_ev', { USD: '20' });
  started = new Date().toISOString();
  // A win pays only on a round that holds a stake: every win below lands on a round the player bet on.
  await command.expectAnswer(gw, SCORPIO, command.bet('cw', command.transId(), 1, { round: ROUND }), command.ok('19'));
  await command.expectAnswer(gw, SCORPIO, command.win('cw', command.transId(), 2, { round: ROUND }), command.ok('21'));
  const release = await holdWallet(gw, 'cw', 'USD');
  // Wallet faults, parked: the 99 carries the balance as it stands (read without the lock).
  await command.expectAnswer(gw, SCORPIO, command.win('cw', parked, 4, { round: ROUND }), command.withBalance(99, '21'));
  await command.expectAnswer(gw, SCORPIO, command.win('cw', later, 2, { round: ROUND }), command.withBalance(99, '21'));
  await release();
});
afterAll(() => gw?.close());

describe('webhooks list and show', () => {
  it('lists the unsettled failures, as text and as JSON', async () => {
    const text = await cli(['webhooks', 'list', '--failed']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^\\d+  \\S+  ${SCORPIO}  vendor  credit  cw  ${parked}  parked$`));
    const json = JSON.parse((await cli(['webhooks', 'list', '--provider', SCORPIO, '--outcome', 'ok,parked', '--limit', '2', '--json'])).stdout);
    expect(json.items.map((i: any) => [i.transactionId, i.outcome])).toEqual([
      [String(later), 'parked'],
      [String(parked), 'parked'],
    ]);
    expect(json.next).toBe(json.items[1].id);
  });

  it('shows one webhook with its redacted headers, body and answer', async () => {
    const row = await vendorRowOf(gw, parked);
    const run = await cli(['webhooks', 'show', row.id.toString()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`webhook ${row.id}  ${SCORPIO}  vendor  received `);
    expect(run.stdout).toMatch(/\noutcome: parked \(.*lock.*\), not settled\n/);
    expect(run.stdout).toContain('"callback-token":"[redacted]"');
    expect(run.stdout).toContain(`\nbody (utf8): {"command":"win"`);
    expect(run.stdout).toContain(`\nanswer: ${command.withBalance(99, '21')}\n`);
  });
});

describe('webhooks replay', () => {
  it('applies a parked win once; a second replay moves nothing', async () => {
    const row = await vendorRowOf(gw, parked);
    const run = await cli(['webhooks', 'replay', row.id.toString()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${row.id} -> \\d+  ${SCORPIO}  ok\nreplayed 1 webhook: 1 ok\n$`));
    expect(await command.wallet(gw, 'cw', 'USD')).toBe(2500n);
    const again = JSON.parse((await cli(['webhooks', 'replay', row.id.toString(), '--json'])).stdout);
    expect(again).toMatchObject({ count: 1, outcomes: { duplicate: 1 }, results: [{ outcome: 'duplicate', answer: command.withBalance(41, '25') }] });
    expect(await command.wallet(gw, 'cw', 'USD')).toBe(2500n);
    expect((await gw.gateway.history.get(row.id))!.resolved_by).not.toBeNull();
  });

  it('replays the rest of a provider\'s failures in a window', async () => {
    const until = new Date(Date.now() + 1000).toISOString();
    const unsettled = await gw.gateway.history.search({ unresolved: true, limit: 10 });
    expect(unsettled).toHaveLength(1);
    const dry = await cli(['webhooks', 'replay-matching', '--provider', SCORPIO, '--since', started, '--until', until, '--dry-run']);
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^${unsettled[0]!.id}\nwould replay 1 webhook received before \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\n$`)), stderr: '' });
    const dryJson = JSON.parse((await cli(['webhooks', 'replay-matching', '--provider', SCORPIO, '--since', started, '--until', until, '--dry-run', '--json'])).stdout);
    expect(dryJson).toEqual({ dryRun: true, count: 1, webhookIds: [unsettled[0]!.id.toString()], since: new Date(started).toISOString(), until: expect.any(String) });
    expect(Date.parse(dryJson.until)).toBeLessThanOrEqual(Date.parse(until));
    expect(await command.wallet(gw, 'cw', 'USD')).toBe(2500n);
    expect(await gw.gateway.history.search({ unresolved: true, limit: 10 })).toHaveLength(1);
    const run = await cli(['webhooks', 'replay-matching', '--provider', SCORPIO, '--since', started, '--until', until]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ok\nreplayed 1 webhook: 1 ok\n$/);
    expect(await command.wallet(gw, 'cw', 'USD')).toBe(2700n);
    expect(await gw.gateway.history.search({ unresolved: true, limit: 10 })).toEqual([]);
  });

  it('refuses what it cannot do, and says how a command line is wrong', async () => {
    expect(await cli(['webhooks', 'replay', '999999999'])).toMatchObject({ code: 1, stderr: 'refused: not_found: no webhook 999999999\n' });
    const window = ['--since', started, '--until', new Date().toISOString()];
    expect(await cli(['webhooks', 'replay-matching', '--provider', 'nobody', ...window])).toMatchObject({ code: 1, stderr: 'refused: unknown_provider: provider nobody is not configured\n' });
    expect((await cli(['webhooks', 'replay-matching', '--provider', SCORPIO, '--since', started])).stderr).toContain('needs --until');
    expect(await cli(['webhooks', 'list', '--outcome', 'bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining('outcome') });
  });
});

describe('webhooks import', () => {
  it("processes a vendor's export once; importing it again changes nothing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'croupier-cli-import-'));
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('cw_ev', round, [[1, 5]]), 'R0', 15);
    const file = path.join(dir, 'dowinn-failed.jsonl');
    writeFileSync(file, `${JSON.stringify({ payload: ev.result('cw_ev', round, 5, 10) })}\n`);

    const first = await cli(['webhooks', 'import', file, '--provider', ev.DOWINN.id]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^\\d+  ${ev.DOWINN.id}  ok\nimported 1 webhook: 1 ok\n$`));
    expect(await ev.balanceOf(gw, 'cw_ev')).toBe(3000n);
    const again = await cli(['webhooks', 'import', file, '--provider', ev.DOWINN.id]);
    expect(again.stdout).toMatch(/imported 1 webhook: 1 duplicate\n$/);
    expect(await ev.balanceOf(gw, 'cw_ev')).toBe(3000n);

    writeFileSync(path.join(dir, 'broken.jsonl'), '{"body": ');
    const broken = await cli(['webhooks', 'import', path.join(dir, 'broken.jsonl'), '--provider', SCORPIO]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.jsonl: line 1: not JSON/);
  });
});
