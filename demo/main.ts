import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { dialects } from '../providers/index.ts';
import { DEMO_IDS, EPHEMERAL_PORTS, startVendors, vendorApiUrls } from '../simulator/demo.ts';
import type { Operation } from '../simulator/journal.ts';
import { units } from '../simulator/money.ts';
import type { SessionReport } from '../simulator/session.ts';
import { loadConfig } from '../src/config/config.ts';
import { reconcile } from '../src/ledger/reconcile.ts';
import { dropDatabase } from '../src/ledger/migrate.ts';
import { createLogger } from '../src/logging.ts';
import { createGateway, prepareDatabase } from '../src/service.ts';
import { PlayerCode } from '../src/wallet/types.ts';

/**
 * `npm run demo`: Croupier at work without a vendor contract. Starts the gateway on a demo database of
 * its own and the five simulated vendors (scorpio-play, slotcity, meganodes in the command dialect;
 * dowinn in the event dialect; hub88 in the signed Hub88 dialect); the casino registers the demo players and launches games through /v1;
 * the vendors play the sessions; the terminal shows every money call and the balances moving; at the
 * end the ledger is reconciled and every wallet is checked against what the vendors' answers promised.
 * Exit 0 when both hold.
 */

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '8' }, database: { type: 'string', default: 'croupier_demo' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('usage: npm run demo [-- --rounds <n>] [--database <name>]\n  the database (default croupier_demo) is dropped and created anew; its name is also the Redis key prefix,\n  so two demos on one server need two names (DEMO_DATABASE_SERVER: another Postgres server)');
  process.exit(0);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 200) {
  console.error('demo: --rounds must be a whole number from 1 to 200');
  process.exit(2);
}
const PLAYERS = ['alice', 'bob', 'carol', 'mallory'];

const tty = process.stdout.isTTY;
const paint = (code: number) => (text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const [dim, green, red, bold, cyan, yellow] = [paint(2), paint(32), paint(31), paint(1), paint(36), paint(33)];
const say = (line: string) => console.log(line);

const databaseUrl = `${process.env.DEMO_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432'}/${values.database}`;
let gatewayUrl = '';
const vendors = await startVendors({
  gatewayUrl: () => gatewayUrl,
  ports: EPHEMERAL_PORTS,
  // Watchable: a short pause between rounds; a few duplicate deliveries, as vendors send.
  play: { rounds, pauseMs: [100, 350], duplicateRate: 0.05 },
});

const config = loadConfig(
  {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    SEED_DEMO: 'true',
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: values.database,
    ...vendorApiUrls(vendors),
  },
  dialects,
);
const log = createLogger(config.logLevel, process.stderr);
await dropDatabase(databaseUrl);
await prepareDatabase(config, log);
const gateway = createGateway(config, log);
const server = await gateway.listen(0, '127.0.0.1');
await gateway.startWorkers();
gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const token = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('demo').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(config.adminJwtSecret.reveal()));
async function v1(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gatewayUrl}/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

async function wallets(): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const p of PLAYERS) {
    const view = await gateway.backOffice.player(PlayerCode(p));
    if (view.ok) for (const w of view.value.wallets) out.set(`${p} ${w.currency}`, w.balance);
  }
  return out;
}
const money = (minor: bigint, currency: string) => `${units(minor, currency)} ${currency}`;
const balanceLine = (balances: Map<string, bigint>) =>
  PLAYERS.filter((p) => p !== 'mallory')
    .map((p) => `${bold(p)} ${['USD', 'EUR', 'KRW'].map((c) => money(balances.get(`${p} ${c}`) ?? 0n, c)).join(' / ')}`)
    .join('   ');

say(bold('Croupier demo'));
say(`gateway ${gatewayUrl} on database ${values.database} (made anew); vendors:`);
for (const id of DEMO_IDS) say(`  ${cyan(id.padEnd(13))} ${vendors[id].dialect} dialect, ${vendors[id].url}`);
const start = await wallets();
say(`demo players seeded: ${balanceLine(start)}   (mallory is blocked)`);
say('');

// The casino's platform: for each provider, a game for each player, through /v1.
const sessions: Promise<SessionReport>[] = [];
/** Each player's user code at each vendor ("provider player"), for the vendor reconciliation at the end. */
const userCodes = new Map<string, string>();
const demoStarted = new Date(Date.now() - 60_000);
for (const provider of DEMO_IDS) {
  const games = (await v1('GET', `/providers/${provider}/games`)).json.games as { id: string; name: string }[];
  for (const [i, player] of PLAYERS.entries()) {
    const game = games[i % games.length]!;
    const launch = await v1('POST', `/players/${player}/launch`, { provider, game: game.id, returnUrl: `${gatewayUrl}/` });
    if (launch.status !== 200) {
      say(`${cyan(provider.padEnd(13))} ${player.padEnd(7)} launch of ${game.name}: ${red(`${launch.status} ${launch.json.error.code}`)} ${dim(launch.json.error.message)}`);
      continue;
    }
    say(`${cyan(provider.padEnd(13))} ${player.padEnd(7)} launched ${game.name} ${dim(`(user ${launch.json.userCode})`)}`);
    userCodes.set(`${provider} ${player}`, launch.json.userCode as string);
    sessions.push(vendors[provider].open(launch.json.url));
  }
}
say('');

// Live: every concluded money call as the vendor saw it. The balances are shown once before and once
// after (each line carries the balance its answer reported).
const journal = vendors.journal;
/** What each answer code means (docs/specs/command-dialect.md, event-dialect.md). */
const MEANING: Record<string, string> = {
  0: 'OK',
  21: 'no such player',
  22: 'player blocked',
  31: 'not enough money',
  41: 'already done',
  42: 'nothing to cancel',
  99: 'failed, retry',
  100: 'bad token',
  R0: 'OK',
  R1: 'failed, retry',
  R2: 'unauthorized',
  R3: 'invalid',
  R4: 'not enough money',
};
say(dim('answers: command dialect 0 OK · 21 no such player · 22 blocked · 31 not enough money · 41 already done · 42 nothing to cancel · 99 failed (the vendor retries)'));
say(dim('         event dialect R0 OK · R1 failed (retried) · R2 unauthorized · R3 invalid · R4 not enough money'));
say(dim('         hub88 RS_OK · RS_ERROR_UNKNOWN failed (retried) · RS_ERROR_NOT_ENOUGH_MONEY · RS_ERROR_TRANSACTION_DOES_NOT_EXIST (nothing to pay or roll back) · promo_win: a free-bet win, no stake'));
say(dim('a win or result of 0 is a lost round; "x2" marks a call the vendor delivered twice (the second changes nothing)'));
say('');
let shown = 0;
const deliveries = (op: Operation) => {
  const sent = journal.attempts.filter((a) => a.provider === op.provider && a.transId === op.transId && a.call === op.call);
  const copies = sent.filter((a) => a.copy > 0).length;
  const retries = sent.filter((a) => a.retry > 0).length;
  return `${copies ? ' x2' : ''}${retries ? ` after ${retries} ${retries === 1 ? 'retry' : 'retries'}` : ''}`;
};
const show = (op: Operation) => {
  const payout = op.call === 'win' || op.call === 'bet_result' || op.call === 'promo_win';
  const lost = payout && op.amount === 0n;
  const amount = op.amount === undefined ? '' : ` ${money(op.amount, op.currency)}`;
  const meaning = MEANING[String(op.reply)];
  const answer = `${String(op.reply)}${meaning ? ` ${meaning}` : ''}`;
  const verdict = op.final === 'ok' ? green(answer) : red(`${answer} (${op.final})`);
  const balance = op.balance === undefined ? '' : dim(`  balance ${money(op.balance, op.currency)}`);
  say(`${cyan(op.provider.padEnd(13))} ${op.player.padEnd(7)} ${op.call.padEnd(13)}${amount.padEnd(16)}${lost ? red(' lost') : '     '} -> ${verdict}${yellow(deliveries(op))}${balance}`);
};
const timer = setInterval(() => {
  for (; shown < journal.operations.length; shown++) {
    const op = journal.operations[shown]!;
    if (op.amount !== undefined) show(op);
  }
}, 200);

const reports = await Promise.all(sessions);
await vendors.idle();
clearInterval(timer);
for (; shown < journal.operations.length; shown++) if (journal.operations[shown]!.amount !== undefined) show(journal.operations[shown]!);

say('');
say(bold('sessions'));
for (const r of reports) {
  say(`  ${cyan(r.provider.padEnd(13))} ${r.player.padEnd(7)} ${r.game.padEnd(16)} ${String(r.rounds).padStart(3)} rounds, ${r.ended.padEnd(9)} change ${money(r.change, r.currency)}`);
}
const end = await wallets();
say(bold(`balances: ${balanceLine(end)}`));

// The checks: the ledger's own invariants, and every wallet where the vendors' answers say it must be.
const breaks = await reconcile(gateway.db);
say(breaks.length ? red(`reconcile: ${breaks.length} breaks: ${breaks.map((b) => b.detail).join('; ')}`) : green('reconcile: every ledger invariant holds'));
const wrong = [...start.entries()].filter(([key, before]) => {
  const [player, currency] = key.split(' ') as [string, string];
  return end.get(key) !== before + journal.expectedChange(player, currency);
});
say(wrong.length ? red(`wallets off the vendors' view: ${wrong.map(([k]) => k).join(', ')}`) : green("every wallet holds what the vendors' answers promised"));
const calls = journal.attempts.length;
say(dim(`${calls} callbacks (${journal.attempts.filter((a) => a.copy > 0).length} duplicate deliveries, ${journal.attempts.filter((a) => a.retry > 0).length} retries) in ${reports.length} sessions`));

// Finance's side: the ledger compared with each command-dialect vendor's own transaction list
// (docs/back-office.md, "Reconciling with vendors"). Clean first; then scorpio-play is told to list a
// win alice's wallet never got (a win lost in transit), which the next run finds and an admin pays by
// an audited adjustment; the run after that finds nothing open.
say('');
say(bold('reconciliation with the vendors\' records'));
const period = () => ({ from: demoStarted.toISOString(), to: new Date(Date.now() + 60_000).toISOString() });
type Summary = { vendorRecords: number; matched: number; open: number; findings: { id: string; kind: string; key: string; state: string; detail: string }[] };
const reconcileVendor = async (provider: string): Promise<Summary> => {
  const run = await v1('POST', '/reconciliation/runs', { provider, ...period() });
  if (run.status !== 201) throw new Error(`reconciliation of ${provider}: ${run.status} ${JSON.stringify(run.json)}`);
  return run.json as Summary;
};
const showRun = (provider: string, s: Summary) => {
  const verdict = s.open === 0 ? green('nothing open') : red(`${s.open} open`);
  say(`  ${cyan(provider.padEnd(13))} ${String(s.vendorRecords).padStart(4)} vendor records, ${String(s.matched).padStart(4)} matched: ${verdict}`);
  for (const f of s.findings.filter((x) => x.state === 'open')) say(`    ${red(f.kind)} ${f.key}: ${dim(f.detail)}`);
};
const COMMAND_IDS = ['scorpio-play', 'slotcity', 'meganodes'] as const;
let reconciliationOpen = 0;
for (const provider of COMMAND_IDS) {
  const s = await reconcileVendor(provider);
  showRun(provider, s);
  reconciliationOpen += s.open;
}
const aliceAtScorpio = userCodes.get('scorpio-play alice');
if (aliceAtScorpio) {
  const LOST_WIN = 1_500n;
  vendors['scorpio-play'].controls.records.invent.push({ trans_id: '990000001', user_code: aliceAtScorpio, round_id: 'demo-lost-round', trans_type: 2, amount: LOST_WIN });
  say(dim(`  scorpio-play now lists a win of ${money(LOST_WIN, 'USD')} to alice (user ${aliceAtScorpio}) that never reached the wallet:`));
  const found = await reconcileVendor('scorpio-play');
  showRun('scorpio-play', found);
  const lost = found.findings.find((f) => f.kind === 'missing_at_casino' && f.state === 'open');
  const before = (await wallets()).get('alice USD') ?? 0n;
  const paid = lost && (await v1('POST', `/reconciliation/findings/${lost.id}/resolve`, { action: 'adjust', direction: 'deposit', amount: units(LOST_WIN, 'USD'), note: 'win lost in transit, paid as the vendor lists it' }));
  const after = (await wallets()).get('alice USD') ?? 0n;
  const resolved = paid?.status === 200 && after - before === LOST_WIN;
  say(`  ${resolved ? green('resolved') : red('not resolved')}: an admin paid it by an audited adjustment; alice ${money(before, 'USD')} -> ${money(after, 'USD')}`);
  const again = await reconcileVendor('scorpio-play');
  showRun('scorpio-play', again);
  reconciliationOpen += (resolved ? 0 : 1) + again.open;
  const ledgerAfter = await reconcile(gateway.db);
  say(ledgerAfter.length ? red(`reconcile after the adjustment: ${ledgerAfter.length} breaks`) : green('reconcile: every ledger invariant still holds'));
  reconciliationOpen += ledgerAfter.length;
}

await vendors.close();
await gateway.close();
process.exit(breaks.length || wrong.length || journal.problems.length || reconciliationOpen ? 1 : 0);
