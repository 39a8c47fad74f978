import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase } from '../../src/ledger/migrate.ts';
import { adminUrl } from '../support/db.ts';
import { deleteRedisKeys } from '../support/gateway.ts';

/**
 * A newcomer's first hour, scripted (issue 15): a clone in a temporary directory, where a documented
 * command other than `npm test` is the first thing run (it must install what it needs and say so),
 * then `npm start` and the README's own examples against it, the CLI, reconcile, migrate, typecheck
 * and the demo, each on a database and Redis prefix of the test's own. The PATH is the machine's,
 * without this checkout's node_modules: the clone must bring its own Node 24.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const name = `croupier_t_walk_${randomBytes(4).toString('hex')}`;
const demoDatabase = `${name}_demo`;
let dir: string;
let port: number;
let env: NodeJS.ProcessEnv;
let gateway: ChildProcess | undefined;

const machinePath = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((entry) => !entry.includes('node_modules'))
  .join(path.delimiter);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `npm run -s <args>` in the clone, as a user types it. */
function npm(args: string[], timeoutMs = 120_000) {
  const run = spawnSync('npm', ['run', '-s', ...args], { cwd: dir, env, encoding: 'utf8', timeout: timeoutMs });
  return { code: run.status, out: run.stdout, err: run.stderr, all: `${run.stdout}\n${run.stderr}` };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'croupier-walk-'));
  const clone = spawnSync('git', ['clone', '--quiet', ROOT, dir], { encoding: 'utf8' });
  expect(clone.status, clone.stderr).toBe(0);
  port = await freePort();
  env = {
    PATH: machinePath,
    HOME: process.env.HOME ?? tmpdir(),
    DATABASE_URL: adminUrl(name),
    REDIS_PREFIX: name,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    npm_config_cache: process.env.npm_config_cache,
  };
}, 60_000);

afterAll(async () => {
  // npm start runs the gateway as its child: the whole process group goes, or the gateway outlives the test.
  if (gateway?.pid !== undefined && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway!.once('exit', resolve));
    process.kill(-gateway.pid, 'SIGTERM');
    await exited;
  }
  for (const database of [name, demoDatabase]) {
    await dropDatabase(adminUrl(database));
    await deleteRedisKeys('redis://127.0.0.1:6379', `${database}:*`);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('a fresh clone', () => {
  it('points nowhere outside itself', () => {
    const files = spawnSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8' }).stdout.split('\n').filter((f) => /\.(ts|mjs|md|json|sh)$|^\.ci\//.test(f));
    const outside = files.filter((f) => /\.\.\/shared\/|DEVELOPERS\.md/.test(readFileSync(path.join(dir, f), 'utf8')) && f !== 'test/walk/fresh-clone.test.ts');
    expect(outside).toEqual([]);
  });

  it('installs before every npm script, so any of them can be the first command', () => {
    const { scripts } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const commands = Object.keys(scripts).filter((name) => !name.startsWith('pre') && !name.startsWith('post'));
    expect(commands.length).toBeGreaterThan(5);
    // One of them is run first below, for real; the others take the same step first.
    expect(commands.filter((name) => scripts[`pre${name}`] !== 'node scripts/ensure-installed.mjs')).toEqual([]);
  });

  it('runs a documented command first: it installs, says so, and works', () => {
    const token = npm(['cli', '--', 'token', '--role', 'admin'], 240_000);
    expect(token.code, token.all).toBe(0);
    expect(token.err).toContain('croupier: installing dependencies first');
    expect(token.out.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  }, 300_000);

  it("serves the README's examples after npm start", async () => {
    let out = '';
    gateway = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    gateway.stdout!.on('data', (c) => (out += c));
    gateway.stderr!.on('data', (c) => (out += c));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
      if (ready) break;
      if (Date.now() > deadline || gateway.exitCode !== null) throw new Error(`npm start did not become ready:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    try {
      await readmeExamples(base);
    } catch (error) {
      throw new Error(`${String(error)} (${String((error as Error).cause ?? '')}); the gateway ${gateway.exitCode === null ? 'runs' : `exited ${gateway.exitCode}`} and said:\n${out}`, { cause: error });
    }
  }, 150_000);

  async function readmeExamples(base: string) {
    // The README's vendor call, as written there.
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    const body = /-d '(\{"command":"authenticate".*?\})'/.exec(readme)?.[1];
    expect(body, 'the README shows an authenticate call').toBeDefined();
    const vendor = await fetch(`${base}/callbacks/scorpio-play`, {
      method: 'POST',
      headers: { 'Callback-Token': 'demo-scorpio-play-callback-token', 'Content-Type': 'application/json' },
      body,
    });
    expect(await vendor.json()).toEqual({ result: 0, status: 'OK', data: { account: 'alice', balance: 1000 } });

    // The back office's, with the token the README mints.
    const token = npm(['cli', '--', 'token', '--role', 'admin']).out.trim();
    const player = await fetch(`${base}/v1/players/alice`, { headers: { authorization: `Bearer ${token}` } });
    expect(player.status).toBe(200);
    expect((await player.json()) as object).toMatchObject({ code: 'alice' });
    const history = npm(['cli', '--', 'history', 'alice']);
    expect(history.code, history.all).toBe(0);
    expect(history.out).toMatch(/deposit +\+1000 USD/);
    const reconcile = npm(['reconcile']);
    expect(reconcile.code, reconcile.all).toBe(0);

    // The console's sign-in page answers (signing in is the browser tests' job).
    expect((await fetch(`${base}/console/sign-in`)).status).toBe(200);
  }

  it('migrates and typechecks', () => {
    const migrate = npm(['migrate']);
    expect(migrate.code, migrate.all).toBe(0);
    const typecheck = npm(['typecheck']);
    expect(typecheck.code, typecheck.all).toBe(0);
  }, 150_000);

  it('plays the demo on a database of its own, and ends reconciled', () => {
    const demo = npm(['demo', '--', '--rounds', '1', '--database', demoDatabase], 120_000);
    expect(demo.code, demo.all).toBe(0);
    expect(demo.out).toContain('reconcile: every ledger invariant holds');
  }, 150_000);
});
