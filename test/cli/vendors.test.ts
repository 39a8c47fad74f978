import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorApiUrls } from '../../simulator/demo.ts';
import { runCli } from '../support/cli.ts';
import { startWorld, type World } from '../vendors/world.ts';

/** The CLI's vendor commands, run as an operator would, against the simulated demo vendors. */

let w: World;
beforeAll(async () => {
  w = await startWorld({ vendors: { play: { retryDelayMs: [5, 10], rounds: 2 } } });
  await w.gw.fund('alice', { USD: '100', KRW: '50000' });
  await w.gw.fund('mallory', { USD: '100' });
  await w.gw.gateway.backOffice.setStatus('mallory' as never, 'blocked');
});
afterAll(() => w?.close());

const cli = (args: string[]) =>
  runCli(args, {
    DATABASE_URL: w.gw.database.url,
    REDIS_PREFIX: w.gw.config.redis.prefix,
    ...vendorApiUrls(w.vendors),
  });

describe('vendor commands', () => {
  it('providers: each with its dialect and whether its API is configured', async () => {
    const run = await cli(['providers']);
    expect(run.code).toBe(0);
    // Every configured provider, in the configuration's order (config/providers.json), with its dialect.
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2))).toEqual(w.gw.config.providers.map((p) => [p.id, p.adapter.dialect]));
    expect(lines.find((l) => l.startsWith('meganodes '))).toBe('meganodes        command  api (KRW)');
    expect(lines.find((l) => l.startsWith('dowinn '))).toBe('dowinn           event    api (USD)');
  });

  it('player register: stores the vendor user code once; a repeat says so', async () => {
    const first = await cli(['player', 'register', 'alice', '--provider', 'meganodes', '--json']);
    expect(first.code).toBe(0);
    const json = JSON.parse(first.stdout);
    const user = w.vendors.meganodes.users().find((u) => u.name === 'alice')!;
    expect(json).toMatchObject({ player: 'alice', provider: 'meganodes', userCode: user.user_code });
    const again = await cli(['player', 'register', 'alice', '--provider', 'meganodes']);
    expect(again.stdout).toMatch(new RegExp(`^alice is ${user.user_code} at meganodes .*\\(already registered\\)\\n$`));
    const list = await cli(['player', 'providers', 'alice', '--provider', 'meganodes']);
    expect(list.stdout).toContain(`"user_code":"${user.user_code}"`);
  });

  it('games and studios', async () => {
    const studios = await cli(['studios', '--provider', 'scorpio-play', '--json']);
    expect(JSON.parse(studios.stdout).studios.length).toBeGreaterThan(1);
    const tables = await cli(['games', '--provider', 'dowinn']);
    expect(tables.stdout).toMatch(/^BAC01\s+Baccarat 1  1-500 USD\n/);
    const none = await cli(['studios', '--provider', 'dowinn']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^refused: not_supported/);
  });

  it('launch prints a one-time URL that plays a session against the gateway', async () => {
    const run = await cli(['launch', 'alice', '--provider', 'dowinn', '--game', 'BAC01', '--bet-min', '1', '--bet-max', '5']);
    expect(run.code).toBe(0);
    const url = run.stdout.trim();
    expect(url.startsWith(`${w.vendors.dowinn.url}/play/`)).toBe(true);
    const report = await w.vendors.dowinn.open(url);
    expect(report.ended).toBe('completed');
    expect(await w.gw.reconcile()).toEqual([]);
  });

  it('refuses a blocked player (exit 1) and a missing --game (exit 2)', async () => {
    const blocked = await cli(['launch', 'mallory', '--provider', 'dowinn', '--game', 'BAC01']);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/^refused: player_blocked/);
    const usage = await cli(['launch', 'alice', '--provider', 'dowinn']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('launch needs --game');
  });
});
