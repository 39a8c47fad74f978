import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO, DEMO_IDS } from '../../simulator/demo.ts';

/**
 * `npm run simulate` (simulator/main.ts) as an operator runs it, and its demo credentials against
 * the demo instances of config/providers.json (the gateway side of the same accounts).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');

interface Run {
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  waitFor(pattern: RegExp, count?: number): Promise<string[]>;
}

function simulate(env: Record<string, string>): Run {
  const child = spawn(NODE, ['simulator/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const take = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exited = false;
  void exit.then(() => {
    exited = true;
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    lines,
    exit,
    kill: (signal) => child.kill(signal),
    async waitFor(pattern, count = 1) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = lines.filter((l) => pattern.test(l));
        if (found.length >= count) return found;
        if (exited || Date.now() > deadline) throw new Error(`no ${count} lines matching ${pattern}; output:\n${lines.join('\n')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

const EPHEMERAL = { SIMULATOR_SCORPIO_PLAY_PORT: '0', SIMULATOR_SLOTCITY_PORT: '0', SIMULATOR_MEGANODES_PORT: '0', SIMULATOR_DOWINN_PORT: '0', SIMULATOR_HUB88_PORT: '0' };

describe('npm run simulate', () => {
  it('starts the five vendors, logs one line per call received, and stops on SIGTERM', async () => {
    const run = simulate({ ...EPHEMERAL, GATEWAY_URL: 'http://127.0.0.1:1' });
    try {
      const listening = await run.waitFor(/ listening on http:\/\/127\.0\.0\.1:\d+, calling back http:\/\/127\.0\.0\.1:1\/callbacks\//, DEMO_IDS.length);
      const url = (id: string) => /listening on (\S+),/.exec(listening.find((l) => l.includes(` ${id} (`))!)![1]!;
      for (const id of DEMO_IDS) expect(url(id)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const res = await fetch(`${url('meganodes')}/v4/game/providers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO.meganodes.apiToken}`, 'content-type': 'application/json' },
        body: '{"lang":"ko"}',
      });
      expect(((await res.json()) as { code: number }).code).toBe(0);
      await run.waitFor(/ meganodes api \/v4\/game\/providers -> 0 OK \(\d+ ms\)$/);

      run.kill('SIGTERM');
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect(run.lines.some((l) => / SIGTERM: stopping the vendors$/.test(l))).toBe(true);
    } finally {
      run.kill('SIGKILL');
    }
  });

  it('refuses a bad setting, naming it', async () => {
    const run = simulate({ SIMULATOR_DOWINN_PORT: 'not-a-port' });
    expect((await run.exit).code).toBe(1);
    expect(run.lines.join('\n')).toMatch(/SIMULATOR_DOWINN_PORT/);
  });
});

describe('the demo credentials', () => {
  it("are the $demo values of config/providers.json's instances, with the same currencies", () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, 'config/providers.json'), 'utf8')) as {
      providers: { id: string; dialect: string; options: Record<string, any> }[];
    };
    const instance = (id: string) => config.providers.find((p) => p.id === id)!;
    for (const id of ['scorpio-play', 'slotcity', 'meganodes'] as const) {
      expect(instance(id)).toMatchObject({ dialect: 'command', options: { currency: DEMO[id].currency, callbackToken: { $demo: DEMO[id].callbackToken } } });
    }
    expect(instance('dowinn')).toMatchObject({ dialect: 'event', options: { apiId: DEMO.dowinn.apiId, currency: DEMO.dowinn.currency, apiKey: { $demo: DEMO.dowinn.apiKey } } });
  });
});
