import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Throw-away infrastructure for the fault tests: a Postgres cluster, a Redis server and gateway
 * processes of their own, on free ports of 127.0.0.1, started and stopped by the test (the shared
 * Postgres and Redis are never touched). Everything started here is registered in `Resources`, whose
 * `teardown()` stops it all (call it from afterAll: it runs even when a test failed); a process exit
 * hook also stops whatever is still running if the test process ends without it.
 */

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const LOOPBACK = '127.0.0.1';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it returns true, at most `timeoutMs`; throws with `what` on the deadline. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// Postgres

function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(path.join(base, v, 'bin/initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error(
      `the fault tests start a PostgreSQL cluster of their own and need its server binaries (initdb, pg_ctl) under ${base}; ` +
        'none are there. Install them (Debian: apt-get install postgresql) on the machine that runs npm test; a Postgres in a container is not enough',
    );
  }
  return path.join(base, newest, 'bin');
}

/** The path of `command` on PATH, or undefined. */
function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** initdb refuses to run as root: as root, the cluster belongs to (and runs as) the postgres user. */
const asRoot = process.getuid?.() === 0;
const postgresIds = () => ({
  uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
  gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
});

async function asPostgres(command: string, args: string[], timeoutMs = 60_000) {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return run(file, argv, { timeout: timeoutMs, cwd: tmpdir() });
}

export interface PostgresInstance {
  port: number;
  /** A URL to `database` on this cluster (user postgres, trust authentication). */
  url(database: string): string;
  running(): boolean;
  /** Immediate stop (a crash as far as clients can tell: every connection is cut at once). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (crash recovery runs). */
  restart(): Promise<void>;
  /** Stops it if running and deletes its files. */
  destroy(): Promise<void>;
}

export async function startPostgres(resources: Resources): Promise<PostgresInstance> {
  const bin = postgresBin();
  const dir = await mkdtemp(path.join(tmpdir(), 'croupier-faults-pg-'));
  const data = path.join(dir, 'data');
  resources.onTeardown(() => rm(dir, { recursive: true, force: true }));
  if (asRoot) {
    const { uid, gid } = postgresIds();
    await chown(dir, uid, gid);
  }
  await asPostgres(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, `-c listen_addresses=${LOOPBACK}`, '-c fsync=off', '-c max_connections=200'].join(' ');
  let up = false;
  const start = async () => {
    await asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', options, '-w', '-t', '60', 'start']);
    up = true;
  };
  const stopNow = async () => {
    if (!up) return;
    up = false;
    await asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
  };
  // If the test process ends without its teardown, the cluster (a daemon) must not outlive it.
  resources.onExit(() => {
    if (!up) return;
    try {
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      execFileSync(asRoot ? 'runuser' : path.join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args] : args, { stdio: 'ignore', timeout: 10_000 });
    } catch {
      // best effort
    }
  });
  resources.onTeardown(stopNow);
  await start();
  return {
    port,
    url: (database) => `postgres://postgres@${LOOPBACK}:${port}/${database}`,
    running: () => up,
    stop: stopNow,
    restart: start,
    async destroy() {
      await stopNow();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis

/** One PING over a raw socket: true when the server answers PONG. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

export interface RedisInstance {
  port: number;
  url: string;
  running(): boolean;
  /** Kills the server (no persistence: whatever it held is gone, as after a crash). */
  stop(): Promise<void>;
  /** Starts a fresh server on the same port. */
  restart(): Promise<void>;
}

export async function startRedis(resources: Resources): Promise<RedisInstance> {
  if (!onPath('redis-server')) {
    throw new Error(
      'the fault tests start a Redis of their own on another port and need redis-server on PATH; it is not there. ' +
        'Install it (Debian: apt-get install redis-server) on the machine that runs npm test; a Redis in a container is not enough',
    );
  }
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'croupier-faults-redis-'));
  resources.onTeardown(() => rm(dir, { recursive: true, force: true }));
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    child = proc;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    resources.track(proc);
    let gone = false;
    void exited.then(() => (gone = true));
    await waitFor(`redis-server on port ${port}`, async () => {
      if (gone) throw new Error('redis-server exited');
      return ping(port);
    }, 15_000, 50);
  };
  const stopNow = async () => {
    const proc = child;
    child = undefined;
    if (proc) await killProcess(proc, 'SIGKILL');
  };
  resources.onTeardown(stopNow);
  await start();
  return {
    port,
    url: `redis://${LOOPBACK}:${port}`,
    running: () => child !== undefined,
    stop: stopNow,
    restart: start,
  };
}

// ---------------------------------------------------------------------------------------------
// Gateway processes

export interface GatewayProcess {
  name: string;
  port: number;
  url: string;
  pid: number;
  /** Set once the process has exited (by our kill or on its own). */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Whether we asked it to stop (an exit without this is a crash). */
  killedByTest(): boolean;
  /** The process's last output lines (stdout and stderr), for diagnostics. */
  output(): string;
  /** Lines the process wrote, counted (its log at LOG_LEVEL=warn). */
  lines(): number;
}

/**
 * Runs `node src/main.ts` with the given settings and waits until /healthz says Postgres and Redis
 * are reachable. The gateway creates and migrates its database itself.
 */
export async function spawnGateway(resources: Resources, name: string, env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const proc = spawn(NODE, ['src/main.ts'], {
    cwd: ROOT,
    // A clean environment: nothing of the test runner's leaks in (a provider secret would replace the demo token).
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      HOST: LOOPBACK,
      PORT: String(port),
      NODE_ENV: 'test',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  resources.track(proc);
  const tail: string[] = [];
  let lineCount = 0;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lineCount++;
      tail.push(line.length > 2000 ? `${line.slice(0, 2000)}...` : line);
      if (tail.length > 300) tail.shift();
    }
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  proc.once('exit', (code, signal) => (exit = { code, signal }));
  const url = `http://${LOOPBACK}:${port}`;
  const gateway: GatewayProcess = {
    name,
    port,
    url,
    pid: proc.pid!,
    exit: () => exit,
    killedByTest: () => resources.killed.has(proc),
    output: () => tail.join('\n'),
    lines: () => lineCount,
  };
  resources.gateways.set(gateway, proc);
  await waitFor(`gateway ${name} /healthz`, async () => {
    if (exit) throw new Error(`gateway ${name} exited (${JSON.stringify(exit)}):\n${gateway.output()}`);
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  }, 30_000, 100).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n--- ${name} output ---\n${gateway.output()}`);
  });
  return gateway;
}

/** Sends `signal` to a gateway process and waits for it to exit (SIGKILL after `graceMs`). */
export async function killGateway(resources: Resources, gateway: GatewayProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  const proc = resources.gateways.get(gateway);
  if (!proc) throw new Error(`unknown gateway ${gateway.name}`);
  await killProcess(proc, signal, graceMs, resources);
}

async function killProcess(proc: ChildProcess, signal: NodeJS.Signals, graceMs = 10_000, resources?: Resources): Promise<void> {
  resources?.killed.add(proc);
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping

/** Everything one test file started, stopped in reverse order by `teardown()`. */
export class Resources {
  readonly gateways = new Map<GatewayProcess, ChildProcess>();
  readonly killed = new WeakSet<ChildProcess>();
  readonly #children = new Set<ChildProcess>();
  readonly #teardown: (() => Promise<unknown>)[] = [];
  readonly #exitHooks: (() => void)[] = [];
  readonly #onExit = () => {
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const hook of this.#exitHooks) hook();
  };

  constructor() {
    process.once('exit', this.#onExit);
  }

  track(child: ChildProcess): void {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
  }

  onTeardown(step: () => Promise<unknown>): void {
    this.#teardown.push(step);
  }

  onExit(hook: () => void): void {
    this.#exitHooks.push(hook);
  }

  /** Kills every process still running, then runs the teardown steps newest first; collects, never stops on, errors. */
  async teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const child of this.#children) {
      try {
        this.killed.add(child);
        await killProcess(child, 'SIGKILL', 5_000);
      } catch (error) {
        errors.push(error);
      }
    }
    for (const step of this.#teardown.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    this.#teardown.length = 0;
    process.removeListener('exit', this.#onExit);
    if (errors.length) throw new AggregateError(errors, 'teardown failed');
  }
}
