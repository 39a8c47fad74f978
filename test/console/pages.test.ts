import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { providerTraffic } from '../../src/webhooks/stats.ts';
import { bet, cancel, expectAnswer, ok, transId, win } from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import { startTestGateway, TOKENS, type TestGateway } from '../support/gateway.ts';

/**
 * The console's overview, providers, reports, audit and operators pages over HTTP, as a browser
 * without script would use them (issue 13): what each role sees, what the server refuses, and that
 * the numbers on the pages are the ledger's and the history's.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  const cli = { name: 'test-setup', via: 'cli' as const };
  for (const [name, role] of [['root', 'admin'], ['olga', 'operator'], ['vic', 'viewer']] as const) {
    expect((await gw.gateway.operators.add(cli, name, role, `${name}-password-long-enough`)).ok).toBe(true);
  }
  await gw.fund('pages-player', { USD: '100' });
});
afterAll(() => gw?.close());

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

async function call(method: string, path: string, opts: { cookie?: string; form?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  let body: string | undefined;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(`${gw.url}${path}`, { method, headers, body, redirect: 'manual' });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A job the console started (a 303 to its page): its page once it has ended, read as a browser reloading it would. */
async function jobEnded(started: Reply, cookie: string): Promise<Reply> {
  expect(started.status).toBe(303);
  const location = started.headers.get('location')!;
  expect(location).toMatch(/^\/console\/jobs\/[0-9a-f-]{36}$/);
  for (let i = 0; i < 300; i++) {
    const page = await call('GET', location, { cookie });
    expect(page.status).toBe(200);
    if (!page.text.includes('http-equiv="refresh"')) return page;
    expect(page.text).toContain('<strong>running</strong>');
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${location} did not end`);
}

const pair = (reply: Reply, name: string) => reply.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))?.split(';')[0] ?? '';
const csrfIn = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '';

/** A browser's sign-in through the form: the session cookie and the page's CSRF token. */
async function signIn(name: string): Promise<{ cookie: string; csrf: string }> {
  const form = await call('GET', '/console/sign-in');
  const res = await call('POST', '/console/sign-in', { cookie: pair(form, 'croupier_sign_in'), form: { _csrf: csrfIn(form.text), name, password: `${name}-password-long-enough`, next: '/console' } });
  expect(res.status).toBe(303);
  const cookie = pair(res, 'croupier_session');
  const home = await call('GET', '/console', { cookie });
  return { cookie, csrf: csrfIn(home.text) };
}

/** The text of the element with this data-testid (its first line of content, tags removed). */
const testId = (text: string, id: string) => {
  const m = new RegExp(`data-testid="${id}"[^>]*>([\\s\\S]*?)</`).exec(text);
  return m?.[1]?.replace(/<[^>]+>/g, '').trim();
};

describe('every page', () => {
  it("loads only the gateway's own resources, and works over plain HTTP (no upgrade to https)", async () => {
    const page = await call('GET', '/console/sign-in');
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self';base-uri 'self';font-src 'self';form-action 'self';frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self'",
    );
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('overview', () => {
  it("counts the vendor's calls and failures per provider from the history, and checks the ledger on demand", async () => {
    const before = (await providerTraffic(gw.gateway.db, ['scorpio-play']))[0]!;
    for (let i = 0; i < 3; i++) {
      const id = transId();
      expect((await gw.callback('scorpio-play', bet('pages-player', id, 1), { 'callback-token': TOKENS['scorpio-play'] })).json.result).toBe(0);
    }
    // A call with a wrong token is rejected at the door: a failure the overview must show.
    expect((await gw.callback('scorpio-play', bet('pages-player', transId(), 1), { 'callback-token': 'wrong-token-000000' })).status).toBeLessThan(500);
    const after = (await providerTraffic(gw.gateway.db, ['scorpio-play']))[0]!;
    expect(after.callsHour - before.callsHour).toBe(4);
    expect(after.failuresHour - before.failuresHour).toBe(1);
    expect(after.lastCallAt).not.toBeNull();
    expect(after.p99Ms).not.toBeNull();

    const { cookie } = await signIn('vic');
    const page = await call('GET', '/console', { cookie });
    expect(page.status).toBe(200);
    const row = new RegExp(`data-testid="provider-scorpio-play">([\\s\\S]*?)</tr>`).exec(page.text)![1]!;
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim());
    expect(cells[0]).toBe('scorpio-play');
    expect(cells[1]).toBe('failing');
    expect(Number(cells[4])).toBe(after.callsHour);
    expect(Number(cells[5])).toBe(after.failuresHour);
    expect(cells[9]).toMatch(/s ago$/);
    for (const instance of gw.config.providers) expect(page.text).toContain(`data-testid="provider-${instance.id}"`);
    expect(page.text).toContain('data-testid="queues"');

    // The ledger check runs as a job: the request answers at once with its page, which reloads until the verdict.
    const start = () => call('POST', '/console/ledger-check', { cookie, form: { _csrf: csrfIn(page.text) } });
    // A second request while one runs joins it: one scan of the ledger, not two. The scan is held on
    // a table lock until both requests are answered.
    const [first, second] = await gw.gateway.db.transaction().execute(async (trx) => {
      await sql`lock table transfers in access exclusive mode`.execute(trx);
      const one = await start();
      return [one, await start()];
    });
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    const check = await jobEnded(first, cookie);
    expect(check.text).toContain('<strong>finished</strong>');
    expect(check.text).toContain('data-testid="ledger-clean"');
    expect((await call('POST', '/console/ledger-check', { cookie, form: {} })).status).toBe(403);
  });
});

describe('providers', () => {
  it('lists every instance with its dialect and credential headers, never a credential', async () => {
    const { cookie } = await signIn('vic');
    const page = await call('GET', '/console/providers', { cookie });
    expect(page.status).toBe(200);
    for (const instance of gw.config.providers) {
      const row = new RegExp(`data-testid="provider-row-${instance.id}">([\\s\\S]*?)</tr>`).exec(page.text)?.[1];
      expect(row, instance.id).toBeDefined();
      expect(row).toContain(instance.adapter.dialect);
      for (const header of instance.adapter.credentialHeaders) expect(row).toContain(header);
    }
    for (const token of Object.values(TOKENS)) expect(page.text).not.toContain(token);
  });
});

describe('reports', () => {
  it("shows the day's GGR as the ledger's stakes less wins, with a chart and the CSV link", async () => {
    await gw.fund('reports-player', { EUR: '50' });
    const round = `pages-round-${transId()}`;
    const stake = transId();
    const headers = { 'callback-token': TOKENS.slotcity };
    expect((await gw.callback('slotcity', bet('reports-player', stake, 7.25, { round }), headers)).json.result).toBe(0);
    expect((await gw.callback('slotcity', win('reports-player', transId(), 2.5, { round }), headers)).json.result).toBe(0);
    const day = new Date().toISOString().slice(0, 10);
    const { cookie } = await signIn('vic');
    const page = await call('GET', `/console/reports?from=${day}&to=${day}&provider=slotcity&currency=EUR`, { cookie });
    expect(page.status).toBe(200);
    expect(testId(page.text, 'ggr-value')).toBe('4.75');
    expect(page.text).toContain('data-testid="ggr-chart-EUR"');
    expect(page.text).toContain(`/v1/reports/ggr?from=${day}&amp;to=${day}`);
    const bad = await call('GET', '/console/reports?from=2026-13-40', { cookie });
    expect(bad.status).toBe(200);
    expect(bad.text).toContain('role="alert"');
  });
});

describe('audit', () => {
  it('lists sign-ins and changes newest first, filtered, with hostile text escaped', async () => {
    const hostile = '<script>alert(1)</script>';
    const form = await call('GET', '/console/sign-in');
    await call('POST', '/console/sign-in', { cookie: pair(form, 'croupier_sign_in'), form: { _csrf: csrfIn(form.text), name: hostile, password: 'x' } });
    const { cookie } = await signIn('vic');
    const page = await call('GET', '/console/audit?action=sign_in&outcome=refused', { cookie });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(hostile);
    expect(page.text).toContain('&lt;script&gt;');
    const actions = [...page.text.matchAll(/data-testid="audit-action">([^<]*)</g)].map((m) => m[1]);
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['sign_in']));
    const paged = await call('GET', '/console/audit?limit=1', { cookie });
    expect([...paged.text.matchAll(/data-testid="audit-row"/g)]).toHaveLength(1);
    expect(paged.text).toContain('data-testid="audit-next"');
  });
});

describe('operators', () => {
  it('is not in a viewer’s navigation, and the server refuses a viewer whatever the page showed', async () => {
    const vic = await signIn('vic');
    const home = await call('GET', '/console', { cookie: vic.cookie });
    expect(home.text).not.toContain('href="/console/operators"');
    expect((await call('GET', '/console/operators', { cookie: vic.cookie })).status).toBe(403);
    const forged = await call('POST', '/console/operators', { cookie: vic.cookie, form: { _csrf: vic.csrf, name: 'sneaky', role: 'admin', password: 'sneaky-password-long' } });
    expect(forged.status).toBe(403);
    expect((await gw.gateway.operators.list()).map((o) => o.name)).not.toContain('sneaky');
  });

  it('lets an admin add, demote and disable an operator, audited, but never leave no admin', async () => {
    const root = await signIn('root');
    const home = await call('GET', '/console', { cookie: root.cookie });
    expect(home.text).toContain('href="/console/operators"');
    const noCsrf = await call('POST', '/console/operators', { cookie: root.cookie, form: { name: 'nina', role: 'operator', password: 'nina-password-long-enough' } });
    expect(noCsrf.status).toBe(403);
    const added = await call('POST', '/console/operators', { cookie: root.cookie, form: { _csrf: root.csrf, name: 'nina', role: 'operator', password: 'nina-password-long-enough' } });
    expect(added.status).toBe(200);
    expect(testId(added.text, 'notice')).toMatch(/Added: nina \(operator, active\)/);
    const weak = await call('POST', '/console/operators', { cookie: root.cookie, form: { _csrf: root.csrf, name: 'weakling', role: 'viewer', password: 'short' } });
    expect(weak.status).toBe(400);
    const role = await call('POST', '/console/operators/nina/role', { cookie: root.cookie, form: { _csrf: root.csrf, role: 'viewer' } });
    expect(role.status).toBe(200);
    const disabled = await call('POST', '/console/operators/nina/disable', { cookie: root.cookie, form: { _csrf: root.csrf } });
    expect(disabled.status).toBe(200);
    const nina = (await gw.gateway.operators.list()).find((o) => o.name === 'nina')!;
    expect([nina.role, nina.status]).toEqual(['viewer', 'disabled']);
    const last = await call('POST', '/console/operators/root/disable', { cookie: root.cookie, form: { _csrf: root.csrf } });
    expect(last.status).toBe(400);
    expect(testId(last.text, 'notice')).toMatch(/last active admin/);
    const trail = await gw.gateway.db.selectFrom('audit_events').select(['action', 'target', 'outcome', 'via', 'actor']).where('actor', '=', 'root').where('action', 'like', 'operator_%').orderBy('id').execute();
    expect(trail.map((e) => [e.action, e.target, e.outcome, e.via])).toEqual([
      ['operator_add', 'nina', 'ok', 'console'],
      ['operator_add', 'weakling', 'refused', 'console'],
      ['operator_role', 'nina', 'ok', 'console'],
      ['operator_disable', 'nina', 'ok', 'console'],
      ['operator_disable', 'root', 'refused', 'console'],
    ]);
  });
});

describe('players', () => {
  it("checks the cashier's confirmed form as its first step does: no money moves on a missing or overlong reference", async () => {
    await gw.fund('cashier-checked', { USD: '10' });
    const root = await signIn('root');
    const balance = async () => {
      const player = await gw.backOffice.player(PlayerCode('cashier-checked'));
      return player.ok ? player.value.wallets.map((w) => [w.currency, w.balance]) : [];
    };
    const cashier = (reference: string) => call('POST', '/console/players/cashier-checked/cashier', { cookie: root.cookie, form: { _csrf: root.csrf, kind: 'deposit', currency: 'USD', amount: '5', reference } });
    for (const reference of ['', '   ', 'r'.repeat(201)]) {
      const refused = await cashier(reference);
      expect(refused.status).toBe(400);
      expect(testId(refused.text, 'cashier-result')).toMatch(/reference/);
    }
    expect(await balance()).toEqual([['USD', 1000n]]);
    const done = await cashier('console-checked-1');
    expect(done.status).toBe(200);
    expect(await balance()).toEqual([['USD', 1500n]]);
    const deposits = await gw.gateway.db.selectFrom('audit_events').select(['target', 'outcome']).where('action', '=', 'deposit').where('target', '=', 'cashier-checked').execute();
    expect(deposits).toEqual([{ target: 'cashier-checked', outcome: 'ok' }]);
  });
});

describe("a player's rounds", () => {
  it('show what each round paid, from its payments, in every dialect: wins less those rolled back, results and changes', async () => {
    await gw.fund('rounds-paid', { USD: '100' });
    const sp = 'scorpio-play';
    const [b, w1, w2] = [transId(), transId(), transId()];
    await expectAnswer(gw, sp, bet('rounds-paid', b, 1, { round: 'rp-1' }), ok('99'));
    await expectAnswer(gw, sp, win('rounds-paid', w1, 2.5, { round: 'rp-1' }), ok('101.5'));
    await expectAnswer(gw, sp, win('rounds-paid', w2, 4, { round: 'rp-1' }), ok('105.5'));
    await expectAnswer(gw, sp, cancel('rounds-paid', w2, { round: 'rp-1' }), ok('101.5'));
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('rounds-paid', round, [[1, 10]]), 'R0', 91.5);
    await ev.expectEvent(gw, ev.result('rounds-paid', round, 10, 5), 'R0', 106.5);
    await ev.expectEvent(gw, ev.resultChange('rounds-paid', round, 10, 8, 5), 'R0', 109.5);
    const rounds = await gw.backOffice.rounds(PlayerCode('rounds-paid'), { limit: 10 });
    expect(rounds.ok && rounds.value.map((r) => [r.provider, r.staked, r.paid])).toEqual([
      ['dowinn', 1_000n, 1_800n],
      ['scorpio-play', 100n, 250n],
    ]);
    const page = await call('GET', '/console/players/rounds-paid', { cookie: (await signIn('vic')).cookie });
    expect(page.text).toMatch(/<td>rp-1<\/td>.*?<td class="num">1<\/td><td class="num">2\.5<\/td>/s);
  });
});

describe('reconciliation', () => {
  it('shows runs and findings to a viewer without the forms, and refuses a viewer’s run', async () => {
    const vic = await signIn('vic');
    const page = await call('GET', '/console/reconciliation', { cookie: vic.cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="findings"');
    expect(page.text).not.toContain('data-testid="reconcile-run"');
    const forged = await call('POST', '/console/reconciliation/run', { cookie: vic.cookie, form: { _csrf: vic.csrf, provider: 'scorpio-play', from: '2026-12-01T00:00', to: '2026-12-01T01:00' } });
    expect(forged.status).toBe(403);
  });

  it("lets an operator run a comparison, and says so when the vendor's API cannot be reached", async () => {
    const olga = await signIn('olga');
    const page = await call('GET', '/console/reconciliation', { cookie: olga.cookie });
    expect(page.text).toContain('data-testid="reconcile-run"');
    // No simulated vendor listens at the demo address here: the run is recorded with its error.
    // The run is a job (the vendor's pages take their time): its page says how it ended.
    const run = await jobEnded(await call('POST', '/console/reconciliation/run', { cookie: olga.cookie, form: { _csrf: olga.csrf, provider: 'scorpio-play', from: '2026-12-01T00:00', to: '2026-12-01T01:00' } }), olga.cookie);
    expect(run.text).toContain('<strong>failed</strong>');
    expect(run.text).toMatch(/data-testid="job-failed">[^<]*records: (unreachable|timeout)/);
    const runs = await gw.gateway.db.selectFrom('vendor_reconcile_runs').select(['provider_id', 'error', 'started_by']).execute();
    expect(runs).toEqual([expect.objectContaining({ provider_id: 'scorpio-play', started_by: 'olga' })]);
    expect(runs[0]!.error).toMatch(/unreachable|timeout/);
  });
});
