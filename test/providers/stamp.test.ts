import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Adding a vendor is one folder and its registration line, and the suite covers it as it is: in a
 * copy of this working tree, `npm run new-provider -- acme` stamps a vendor; the copy's changes are
 * then only providers/acme/ and the registration in providers/index.ts; and the tests that read the
 * registry (the conformance kit, here certifying acme, the configuration, the logs) pass with it
 * registered, logging at info into a file where none of acme's keys, nor a caller's wrong guess at
 * one, may appear.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = process.execPath;
let copy: string;
let logFile: string;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=stamp-check', '-c', 'user.email=stamp@check.invalid', '-c', 'core.hooksPath=/dev/null', ...args], { cwd: copy, encoding: 'utf8' });

/** The nested run: the test files that read the registry, acme's certification among them. */
const FILES = ['test/conformance/adapters.test.ts', 'test/conformance/orders.test.ts', 'test/config/config.test.ts', 'test/event/logging.test.ts'];

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  // The outer run's own variables (its worker ids, its template database) are not the nested run's.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|TEST_|CONFORMANCE_|ROUND_ORDERS|NODE_OPTIONS)/.test(name)));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: copy, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'croupier-stamp-'));
  logFile = path.join(copy, 'gateway.log');
  // The working tree as a developer has it (committed or not), without what git ignores.
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(path.join(ROOT, file))) continue;
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(copy, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'before the stamp');
});
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('a stamped vendor', () => {
  it('touches only its folder and its registration line', async () => {
    const stamped = await run(NODE, ['providers/_template/stamp.ts', 'acme'], {});
    expect(stamped.code, stamped.output).toBe(0);
    expect(stamped.output).toContain('ACME_SHARED_KEY');
    const changed = git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).map((l) => l.slice(3)).sort();
    expect(changed.filter((f) => !f.startsWith('providers/acme/'))).toEqual(['providers/index.ts']);
    expect(changed.filter((f) => f.startsWith('providers/acme/'))).toEqual(
      ['adapter.ts', 'codes.ts', 'conformance.ts', 'wire.ts'].map((f) => `providers/acme/${f}`),
    );
    const diff = git('diff', '-U0', 'providers/index.ts').split('\n').filter((l) => /^[+-][^+-]/.test(l));
    expect(diff).toEqual(["+import { acmeDialect } from './acme/adapter.ts';", '+  acmeDialect,']);
  });

  it('keeps nothing of the template: no notes, no template names, no unused import', () => {
    for (const file of ['adapter.ts', 'codes.ts', 'conformance.ts', 'wire.ts']) {
      const text = readFileSync(path.join(copy, 'providers/acme', file), 'utf8');
      expect(text, file).not.toMatch(/template/i);
    }
    // tsconfig.json has noUnusedLocals: the stamped folder type-checks with the rest, no import left unused.
    const types = execFileSync(NODE, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { cwd: copy, encoding: 'utf8' }).trim();
    expect(types).toBe('');
  });

  it('is certified by the kit as it is, and the registry readers pass with it registered; no key of it in any log line', async () => {
    const tests = await run(NODE, ['node_modules/vitest/vitest.mjs', 'run', ...FILES], {
      CONFORMANCE_DIALECTS: 'acme',
      ROUND_ORDERS: '200',
      TEST_LOG_LEVEL: 'info',
      TEST_LOG_FILE: logFile,
    });
    expect(tests.code, tests.output.slice(-4000)).toBe(0);
    expect(tests.output).toMatch(/conformance of the acme dialect/);
    const log = readFileSync(logFile, 'utf8');
    const requests = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { req?: { url?: string; headers?: Record<string, string> } })
      .filter((l) => l.req?.url?.startsWith('/callbacks/conformance-acme-'));
    // The calls were logged with their headers (so the check below is not vacuous) ...
    expect(requests.length).toBeGreaterThan(100);
    expect(requests.filter((r) => r.req!.headers!['x-acme-key'] !== undefined).every((r) => r.req!.headers!['x-acme-key'] === '[redacted]')).toBe(true);
    expect(requests.some((r) => r.req!.headers!['x-acme-key'] === '[redacted]')).toBe(true);
    // ... and neither acme's keys nor a wrong guess at one appear anywhere.
    for (const secret of ['conformance-acme-key-a', 'conformance-acme-key-b', 'wrong-key-wrong-key']) expect(log).not.toContain(secret);
  });
});
