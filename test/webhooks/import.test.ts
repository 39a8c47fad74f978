import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExport } from '../../src/webhooks/wire.ts';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import type { TestGateway } from '../support/gateway.ts';
import { holdWallet, startFaultyGateway } from './helpers.ts';

/**
 * Importing a vendor's back-office export of failed notifications: each runs through the same adapter
 * and wallet rules as a trusted call, is kept in the history as an import, and applies once however
 * often the file is imported.
 */

let gw: TestGateway;
const dir = mkdtempSync(path.join(tmpdir(), 'croupier-import-'));
beforeAll(async () => {
  gw = await startFaultyGateway();
  await gw.fund('im_ev', { USD: '100' });
  await gw.fund('im_cmd', { USD: '100' });
});
afterAll(() => gw?.close());

const SCORPIO = 'scorpio-play';

/** Writes an export file and imports it for one provider, as the CLI and the API do. */
async function importFile(name: string, content: string, provider: string) {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const parsed = parseExport(readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(parsed.message);
  return gw.gateway.replayer.import(provider, parsed.value);
}

describe('an import', () => {
  const round1 = ev.newRound();
  const round2 = ev.newRound();
  const results = [ev.result('im_ev', round1, 10, 15), ev.result('im_ev', round2, 20, -20)];
  const win = command.transId();
  /** A win pays only on a round that holds a stake: im_cmd bets 10 on it first. */
  const cmdRound = 'r-im_cmd';
  // A JSON-lines export: event-dialect notifications as decrypted payloads, amounts as the vendor wrote them.
  const eventLines = results.map((payload) => JSON.stringify({ payload })).join('\n') + '\n';
  const commandBody = JSON.stringify(command.win('im_cmd', win, 12.34, { round: cmdRound }));
  const commandLines = JSON.stringify({ body: commandBody });

  beforeAll(async () => {
    await ev.expectEvent(gw, ev.bet('im_ev', round1, [[1, 10]]), 'R0', 90);
    await ev.expectEvent(gw, ev.bet('im_ev', round2, [[1, 20]]), 'R0', 70);
    await command.expectAnswer(gw, SCORPIO, command.bet('im_cmd', command.transId(), 10, { round: cmdRound }), command.ok('90'));
  });

  it('applies two event-dialect payloads and a command-dialect body once each', async () => {
    const events = await importFile('events.jsonl', eventLines, ev.DOWINN.id);
    expect(events.map((r) => [r.provider, r.outcome])).toEqual([
      [ev.DOWINN.id, 'ok'],
      [ev.DOWINN.id, 'ok'],
    ]);
    expect(await ev.balanceOf(gw, 'im_ev')).toBe(9500n); // 70 + (10 + 15) + (20 - 20)
    const commands = await importFile('commands.jsonl', commandLines, SCORPIO);
    expect(commands).toEqual([expect.objectContaining({ outcome: 'ok', answer: command.ok('102.34') })]);
    expect(await command.wallet(gw, 'im_cmd', 'USD')).toBe(10234n);

    const kept = await gw.gateway.db.selectFrom('webhooks').selectAll().where('source', '=', 'import').orderBy('id').execute();
    expect(kept.map((r) => [r.provider_id, r.outcome, r.player_code])).toEqual([
      [ev.DOWINN.id, 'ok', 'im_ev'],
      [ev.DOWINN.id, 'ok', 'im_ev'],
      [SCORPIO, 'ok', 'im_cmd'],
    ]);
    expect(kept[0]!.body.toString()).toBe(JSON.stringify(results[0]));
    expect(kept[2]!.body.toString()).toBe(commandBody);
    expect(kept.map((r) => r.plaintext)).toEqual([true, true, false]);
    expect(kept[0]!.headers).toEqual({});
  });

  it('of the same files again changes nothing', async () => {
    const before = await ev.ledgerState(gw);
    const events = await importFile('events.jsonl', eventLines, ev.DOWINN.id);
    const commands = await importFile('commands.jsonl', commandLines, SCORPIO);
    expect([...events, ...commands].map((r) => r.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(await ev.ledgerState(gw)).toEqual(before);
    expect(await ev.balanceOf(gw, 'im_ev')).toBe(9500n);
    expect(await command.wallet(gw, 'im_cmd', 'USD')).toBe(10234n);
  });

  it('that hit a fault is kept as a failure, and its replay reads the payload as a payload again', async () => {
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('im_ev', round, [[1, 5]]), 'R0', 90);
    const release = await holdWallet(gw, 'im_ev', 'USD');
    const [failed] = await importFile('late.jsonl', JSON.stringify({ payload: ev.result('im_ev', round, 5, 5) }), ev.DOWINN.id);
    await release();
    expect(failed!.outcome).toBe('fault');
    expect(await ev.balanceOf(gw, 'im_ev')).toBe(9000n);
    expect((await gw.gateway.history.search({ unresolved: true, limit: 10 })).map((r) => [r.source, r.outcome])).toEqual([['import', 'fault']]);

    const replayed = await gw.gateway.replayer.replay(BigInt(failed!.webhookId));
    expect(replayed.outcome).toBe('ok');
    expect(await ev.balanceOf(gw, 'im_ev')).toBe(10000n);
    expect(await gw.gateway.history.search({ unresolved: true, limit: 10 })).toEqual([]);
    expect((await gw.gateway.replayer.replay(BigInt(failed!.webhookId))).outcome).toBe('duplicate');
    expect(await gw.reconcile()).toEqual([]);
  });

  it('keeps exact amounts: a payload number reaches the adapter as written', async () => {
    const exact = command.transId();
    const file = `{"payload": {"command": "win", "data": {"account": "im_cmd", "trans_id": ${exact}, "call_id": 0, "round_id": "${cmdRound}", "provider_id": "p", "game_code": "g", "game_name": "G", "game_type": "slots", "amount": 0.10000000000000001, "type": 2}, "timestamp": "1600000000", "check": "21,22,41"}}`;
    // 0.10000000000000001 is 0.1 as a float; as text it has too many decimals for USD and is refused.
    const [result] = await importFile('exact.jsonl', file, SCORPIO);
    expect(result!.outcome).toBe('rejected');
    expect(await command.wallet(gw, 'im_cmd', 'USD')).toBe(10234n);
  });
});

describe('the export format', () => {
  it('is a JSON array or JSON lines of {body} or {payload} entries; anything else is named', () => {
    expect(parseExport('[{"body": "a"}, {"payload": {"x": 1}}]')).toMatchObject({ ok: true, value: [{ body: 'a' }, { payload: { x: expect.anything() } }] });
    expect(parseExport('{"body": "a"}\r\n\n{"body": "b"}\n')).toEqual({ ok: true, value: [{ body: 'a' }, { body: 'b' }] });
    for (const [content, message] of [
      ['', /no notification/],
      ['[]', /no notification/],
      ['{"body": "a"}\n{"body": ', /^line 2: not JSON/],
      ['[{"body": "a"}, {"payload": null}]', /^entry 1: expected/],
      ['{"body": "a", "payload": {}}', /^line 1: expected/],
      ['{"notification": "a"}', /^line 1: expected/],
      ['"body"', /^line 1: expected/],
    ] as const) {
      const parsed = parseExport(content);
      expect(parsed.ok, content).toBe(false);
      expect(parsed.ok ? '' : parsed.message).toMatch(message);
    }
  });
});
