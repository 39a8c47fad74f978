import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/** `npm start` as a newcomer runs it: what it prints and how it exits when it cannot start. */

const ROOT = path.resolve(import.meta.dirname, '../..');

async function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(path.join(ROOT, 'node_modules/.bin/node'), ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', SEED_DEMO: 'false', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

let db: TestDatabase;
let taken: Server;
let port: number;
beforeAll(async () => {
  db = await createTestDatabase();
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await db.drop();
});

describe('a start that cannot succeed', () => {
  it('says in one line that the port is taken and how to pick another, and exits 1', async () => {
    const run = await start({ DATABASE_URL: db.url, PORT: String(port), REDIS_PREFIX: `croupier_t_start_${process.pid}` });
    expect(run).toEqual({ code: 1, stderr: `croupier: cannot start: 127.0.0.1:${port} is already in use: stop what holds it, or set PORT (0 picks a free port)\n` });
  });

  it('says in one line that Postgres does not answer, without the URL (it may hold a password), and exits 1', async () => {
    // The port just freed by a listener of our own: nothing answers there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await start({ DATABASE_URL: `postgres://postgres:hunter2-secret@127.0.0.1:${free}/croupier`, PORT: '0' });
    expect(run).toEqual({ code: 1, stderr: 'croupier: cannot start: Postgres does not answer at DATABASE_URL (ECONNREFUSED): start it, or point DATABASE_URL at a server that runs\n' });
  });
});
