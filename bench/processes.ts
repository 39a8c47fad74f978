import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { DATABASE, REDIS_PREFIX, REDIS_URL, SECRETS, SERVER_URL } from './world.ts';

/** The repository root: the gateway reads config/ from its working directory. */
export const ROOT = path.resolve(import.meta.dirname, '..');
/** Node 24 from node_modules (the machine's own node may be older than the code needs). */
export const NODE = process.execPath;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output; `started` is told its process id. */
export function run(command: string, args: readonly string[], options: SpawnOptions = {}, started?: (pid: number) => void): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    stopOnExit(child);
    if (child.pid !== undefined) started?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

export async function runOrThrow(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Ran> {
  const ran = await run(command, args, options);
  if (ran.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${ran.code}\n${ran.stdout}${ran.stderr}`);
  return ran;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports (gateway processes "on one port range"), below Linux's ephemeral
 * range (32768 and up): the processes of the last stages start minutes after the ports are chosen,
 * and meanwhile the hot player's 500 connections take ephemeral ports, one of which once was the
 * port set aside for the second gateway (EADDRINUSE).
 */
export async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let free = true;
    for (const port of ports) if (!(free = await portFree(port))) break;
    if (free) return ports;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/**
 * The environment of a production gateway and of the CLI: production mode, every secret set (a
 * production start refuses demo secrets), the bench's own database and Redis prefix. A clean
 * environment, so nothing of the caller's (a DATABASE_URL, a secret) leaks in.
 */
export function productionEnv(database: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: `${SERVER_URL}/${database}`,
    REDIS_URL,
    REDIS_PREFIX,
    LOG_LEVEL: 'warn',
    ...SECRETS,
    ...extra,
  };
}

export interface Gateway {
  name: string;
  port: number;
  pid: number;
  /** The last lines it wrote (at LOG_LEVEL=warn, only trouble). */
  output(): string;
  /** How many lines it wrote in all. */
  lines(): number;
  exited(): boolean;
  stop(): Promise<void>;
}

/** Starts `node dist/src/main.js` as production runs it, and waits until /healthz answers 200. */
export async function startGateway(name: string, port: number, env: Record<string, string>): Promise<Gateway> {
  const child = spawn(NODE, ['dist/src/main.js'], {
    cwd: ROOT,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let lines = 0;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines++;
      tail.push(line.length > 1000 ? `${line.slice(0, 1000)}...` : line);
      if (tail.length > 50) tail.shift();
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  stopOnExit(child);
  const gateway: Gateway = {
    name,
    port,
    pid: child.pid!,
    output: () => tail.join('\n'),
    lines: () => lines,
    exited: () => exited,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`gateway ${name} exited at start:\n${gateway.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return gateway;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await gateway.stop();
      throw new Error(`gateway ${name} not healthy within 60 s:\n${gateway.output()}`);
    }
    await sleep(100);
  }
}

/** Runs the production CLI (`node dist/src/cli/main.js ...`) against the bench database. */
export function cli(args: readonly string[], database = DATABASE): Promise<Ran> {
  return run(NODE, ['dist/src/cli/main.js', ...args], { env: productionEnv(database) });
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** If the bench dies, the processes it started must not outlive it. */
export function stopOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
