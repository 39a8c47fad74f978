import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropDatabase } from '../../src/ledger/migrate.ts';
import { adminUrl } from '../support/db.ts';
import { deleteRedisKeys } from '../support/gateway.ts';
import { DEMO_IDS } from '../../simulator/demo.ts';

/** `npm run demo` as a newcomer runs it (on a database of the test's own): it plays, reconciles and exits 0. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const database = `croupier_t_demo_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  await dropDatabase(adminUrl(database));
  await deleteRedisKeys('redis://127.0.0.1:6379', `${database}:*`);
});

describe('npm run demo', () => {
  it('plays sessions at all five demo providers, shows them, ends reconciled, and finds and resolves a lost win in the vendors\' records (exit 0)', async () => {
    const run = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(NODE, ['demo/main.ts', '--rounds', '2', '--database', database], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`demo did not exit:\n${out}`));
      }, 50_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, out });
      });
    });
    expect(run.code, run.out).toBe(0);
    for (const provider of DEMO_IDS) {
      expect(run.out).toMatch(new RegExp(`^${provider}\\s+alice\\s+launched `, 'm'));
      expect(run.out).toMatch(new RegExp(`^${provider}\\s+bob\\s+bet\\s+\\d`, 'm'));
    }
    expect(run.out).toMatch(/^scorpio-play\s+mallory launch of .*: 403 player_blocked/m);
    expect(run.out).toContain('reconcile: every ledger invariant holds');
    expect(run.out).toContain("every wallet holds what the vendors' answers promised");
    // Finance's reconciliation with the vendors' records: clean, then a lost win found and paid.
    for (const provider of ['scorpio-play', 'slotcity', 'meganodes']) expect(run.out).toMatch(new RegExp(`^  ${provider}\\s+(\\d+) vendor records,\\s+\\1 matched: nothing open`, 'm'));
    expect(run.out).toMatch(/^    missing_at_casino 990000001: .*never applied/m);
    expect(run.out).toMatch(/^  resolved: an admin paid it by an audited adjustment; alice (\S+) USD -> (\S+) USD/m);
    expect(run.out).toContain('reconcile: every ledger invariant still holds');
  });
});
