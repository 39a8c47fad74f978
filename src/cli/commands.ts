import { readFile } from 'node:fs/promises';
import { decodeJwt, SignJWT } from 'jose';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import type { Db } from '../ledger/database.ts';
import { reconcile } from '../ledger/reconcile.ts';
import { createLogger } from '../logging.ts';
import { prepareDatabase, type Gateway } from '../service.ts';
import { BackOffice, type BackOfficeRefusal, type PlayerView } from '../wallet/backoffice.ts';
import {
  cashierJson,
  cashierRequest,
  historyJson,
  historyRequest,
  newPlayer,
  playerJson,
  walletsJson,
} from '../wallet/backoffice-wire.ts';
import { PlayerCode } from '../wallet/types.ts';
import type { VendorError } from '../gateway/vendor-api.ts';
import type { VendorsRefusal } from '../vendors/vendors.ts';
import { UsageError, valid } from './input.ts';
import { vendorCommands } from './vendor-commands.ts';
import { operatorCommands } from './operator-commands.ts';
import { MAX_TOKEN_SECONDS } from '../http/auth.ts';
import { ggrRequest } from '../http/reports.ts';
import { runRequest } from '../http/reconciliation.ts';
import { parseExport as parseRecordsExport } from '../reconcile/export.ts';
import { ReconcileError } from '../reconcile/reconciler.ts';
import { currencyCode } from '../money/currency.ts';
import { Reports, ggrCsv, ggrJson } from '../reports/ggr.ts';
import { ROLES, type OperatorRefusal } from '../operators/operators.ts';
import { OperatorActions } from '../operators/actions.ts';
import { Audit } from '../operators/audit.ts';
import { cliActor } from './operator-commands.ts';
import type { ReplayResult } from '../webhooks/replay.ts';
import {
  dryRunJson,
  parseExport,
  replayRequest,
  searchRequest,
  webhookId,
  webhookJson,
  webhookLine,
  webhookPageJson,
  type WebhookRefusal,
} from '../webhooks/wire.ts';

/** The options any command may take; each command lists the ones it accepts. */
export const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  currency: { type: 'string', multiple: true },
  reference: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  subject: { type: 'string' },
  role: { type: 'string' },
  actor: { type: 'string' },
  by: { type: 'string' },
  csv: { type: 'boolean' },
  action: { type: 'string' },
  ttl: { type: 'string' },
  provider: { type: 'string' },
  player: { type: 'string' },
  tx: { type: 'string' },
  outcome: { type: 'string' },
  failed: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  game: { type: 'string' },
  studio: { type: 'string' },
  lang: { type: 'string' },
  'return-url': { type: 'string' },
  'bet-min': { type: 'string' },
  'bet-max': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  file: { type: 'string' },
} as const;

export { UsageError };

export type OptionName = Exclude<keyof typeof OPTIONS, 'json' | 'help'>;
export type Values = {
  [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K] extends { type: 'boolean' } ? boolean : string;
};


export interface Output {
  /** Prints an answer: `json` with --json, the human lines otherwise. */
  answer(json: unknown, lines: readonly string[]): void;
  /** Prints a refusal (of the back office, or about a webhook); returns the exit code for it. */
  refused(reason: BackOfficeRefusal | WebhookRefusal | VendorsRefusal | VendorError | OperatorRefusal, message?: string): number;
}

export interface Context {
  config: Config;
  /** The database pool, opened on first use (the caller closes it). */
  db(): Db;
  /** The gateway's parts (history, replayer, adapters), opened on first use: not listening, no workers (the caller closes it). */
  gateway(): Gateway;
  out: Output;
}

export interface Command {
  /** Positional arguments and options, as the usage text shows them. */
  synopsis: string;
  summary: string;
  args: number;
  options: readonly OptionName[];
  required?: readonly OptionName[];
  run(ctx: Context, args: readonly string[], values: Values): Promise<number>;
}


const playerLines = (p: PlayerView) => {
  const view = playerJson(p);
  return [`${view.code} (${view.status})`, ...view.wallets.map((w) => `  ${w.currency} ${w.balance}`)];
};

async function showPlayer(ctx: Context, result: Awaited<ReturnType<BackOffice['player']>>): Promise<number> {
  if (!result.ok) return ctx.out.refused(result.reason);
  ctx.out.answer(playerJson(result.value), playerLines(result.value));
  return 0;
}

function cashier(kind: 'deposit' | 'withdrawal'): Command {
  return {
    synopsis: '<code> <amount> <currency> --reference <ref>',
    summary: kind === 'deposit' ? "credits a player's wallet from the cashier" : "pays out from a player's wallet to the cashier",
    args: 3,
    options: ['reference'],
    required: ['reference'],
    async run(ctx, [code, amountText, currencyCode], values) {
      const request = valid(cashierRequest, { currency: currencyCode, amount: amountText, reference: values.reference });
      const result = await offline(ctx).cashier(cliActor(), kind, code!, request.currency, request.amount, request.reference);
      if (!result.ok) {
        if (result.reason === 'invalid_amount') throw new UsageError(`invalid amount: ${result.message}`);
        return ctx.out.refused(result.reason);
      }
      const answer = cashierJson(request.reference, request.currency, result.balance, result.repeat);
      const verb = kind === 'deposit' ? 'deposited' : 'withdrew';
      const repeat = answer.repeat ? ' (a repeat of that reference: nothing changed)' : '';
      ctx.out.answer(answer, [`${verb} ${request.amount.trim()} ${request.currency} (${request.reference}); ${code} now has ${answer.balance} ${request.currency}${repeat}`]);
      return 0;
    },
  };
}

/** The audited changes on the CLI's own connection, for the commands that need no gateway. */
const offline = (ctx: Context) => new OperatorActions(new BackOffice(ctx.db()), undefined, new Audit(ctx.db()));

function setStatus(status: 'active' | 'blocked'): Command {
  return {
    synopsis: '<code>',
    summary: status === 'blocked' ? 'blocks a player: no more bets' : 'lets a blocked player play again',
    args: 1,
    options: [],
    run: async (ctx, [code]) => showPlayer(ctx, await offline(ctx).setStatus(cliActor(), code!, status)),
  };
}

const FAILING = new Set<ReplayResult['outcome']>(['fault', 'parked']);

/** Prints replay or import results, one line each; exit 1 when any still failed. */
function replayed(ctx: Context, results: readonly ReplayResult[], verb: string): number {
  const lines = results.map((r) => {
    const replay = r.replayId && r.replayId !== r.webhookId ? ` -> ${r.replayId}` : '';
    const detail = r.detail ? ` (${r.detail})` : '';
    return `${r.webhookId}${replay}  ${r.provider}  ${r.outcome}${detail}`;
  });
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const summary = [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
  lines.push(`${verb} ${results.length} webhook${results.length === 1 ? '' : 's'}${summary ? `: ${summary}` : ''}`);
  ctx.out.answer({ count: results.length, outcomes: Object.fromEntries(counts), results }, lines);
  return results.some((r) => FAILING.has(r.outcome)) ? 1 : 0;
}

function knownProvider(ctx: Context, provider: string): boolean {
  return ctx.gateway().providers.has(provider);
}

const webhooks: Record<string, Command> = {
  'webhooks list': {
    synopsis: '[--provider <id>] [--player <code>] [--tx <id>] [--outcome <a,b>] [--failed] [--since <ISO>] [--until <ISO>] [--limit <n>] [--before <id>]',
    summary: 'lists webhooks, newest first; --failed: failures no retry or replay has settled',
    args: 0,
    options: ['provider', 'player', 'tx', 'outcome', 'failed', 'since', 'until', 'limit', 'before'],
    async run(ctx, _args, v) {
      const filter = valid(searchRequest, {
        provider: v.provider,
        player: v.player,
        transactionId: v.tx,
        outcome: v.outcome,
        failed: v.failed ? 'true' : undefined,
        since: v.since,
        until: v.until,
        limit: v.limit,
        before: v.before,
      });
      const page = webhookPageJson(await ctx.gateway().history.search(filter), filter.limit);
      const lines = page.items.map(webhookLine);
      if (!lines.length) lines.push('no webhooks');
      if (page.next) lines.push(`more: --before ${page.next}`);
      ctx.out.answer(page, lines);
      return 0;
    },
  },
  'webhooks show': {
    synopsis: '<id>',
    summary: 'shows one webhook: headers (redacted), body, payload, operation, outcome, answer',
    args: 1,
    options: [],
    async run(ctx, [id]) {
      const row = await ctx.gateway().history.get(valid(webhookId, id));
      if (!row) return ctx.out.refused('not_found', `no webhook ${id}`);
      const w = webhookJson(row);
      const json = (value: unknown) => JSON.stringify(value);
      const settled = w.resolvedBy ? `settled by ${w.resolvedBy} at ${w.resolvedAt}` : w.resolvedAt ? 'nothing to settle (a bet or a read)' : 'not settled';
      ctx.out.answer(w, [
        `webhook ${w.id}  ${w.provider}  ${w.source}${w.replayOf ? ` (replay of ${w.replayOf})` : ''}  received ${w.receivedAt}`,
        `outcome: ${w.outcome}${w.detail ? ` (${w.detail})` : ''}${w.outcome === 'fault' || w.outcome === 'parked' ? `, ${settled}` : ''}`,
        `player: ${w.player ?? '-'}  transaction: ${w.transactionId ?? '-'}  took ${w.durationMs} ms`,
        `operation: ${json(w.operation)}`,
        `headers: ${json(w.headers)}`,
        `body (${w.bodyEncoding}): ${w.body}`,
        `payload: ${json(w.payload)}`,
        `answer: ${w.answer ?? '-'}`,
      ]);
      return 0;
    },
  },
  'webhooks replay': {
    synopsis: '<id>',
    summary: 'runs one stored webhook again through its adapter and the wallet rules (safe to repeat)',
    args: 1,
    options: [],
    async run(ctx, [id]) {
      const result = await ctx.gateway().actions.replay(cliActor(), valid(webhookId, id));
      if (result.outcome === 'not_found') return ctx.out.refused('not_found', `no webhook ${id}`);
      if (result.outcome === 'unknown_provider') return ctx.out.refused('unknown_provider', `provider ${result.provider} is not configured`);
      if (result.outcome === 'not_replayable') return ctx.out.refused('not_replayable', result.detail);
      return replayed(ctx, [result], 'replayed');
    },
  },
  'webhooks replay-matching': {
    synopsis: '--provider <id> --since <ISO> --until <ISO> [--outcome <a,b>] [--dry-run]',
    summary: "replays a provider's webhooks in a time window, oldest first (default: failures not yet settled); --dry-run: counts them and changes nothing",
    args: 0,
    options: ['provider', 'since', 'until', 'outcome', 'dry-run'],
    required: ['provider', 'since', 'until'],
    async run(ctx, _args, v) {
      const { dryRun: _, ...filter } = valid(replayRequest, { provider: v.provider, since: v.since, until: v.until, outcomes: v.outcome?.split(',').map((o) => o.trim()) });
      if (!knownProvider(ctx, filter.provider)) return ctx.out.refused('unknown_provider', `provider ${filter.provider} is not configured`);
      const actions = ctx.gateway().actions;
      if (v['dry-run']) {
        const dry = dryRunJson(await actions.dryRun(filter));
        const { count, webhookIds: ids } = dry;
        const more = count > ids.length ? [`(the first ${ids.length} of ${count})`] : [];
        ctx.out.answer(dry, [...ids, ...more, `would replay ${count} webhook${count === 1 ? '' : 's'} received before ${dry.until}`]);
        return 0;
      }
      return replayed(ctx, (await actions.replayMatching(cliActor(), filter)).results, 'replayed');
    },
  },
  'webhooks import': {
    synopsis: '<file> --provider <id>',
    summary: "processes a vendor's export of failed notifications: JSON lines or a JSON array of {\"body\"} or {\"payload\"}",
    args: 1,
    options: ['provider'],
    required: ['provider'],
    async run(ctx, [file], v) {
      const provider = valid(z.string().trim().min(1).max(200), v.provider);
      if (!knownProvider(ctx, provider)) return ctx.out.refused('unknown_provider', `provider ${provider} is not configured`);
      const notifications = parseExport(await readFile(file!, 'utf8'));
      if (!notifications.ok) throw new Error(`${file}: ${notifications.message}`);
      return replayed(ctx, (await ctx.gateway().actions.import(cliActor(), provider, notifications.value)).results, 'imported');
    },
  },
};

/** Every command, by the words that name it. */
export const COMMANDS: Record<string, Command> = {
  migrate: {
    synopsis: '',
    summary: 'creates the database if missing, migrates it, seeds demo players into an empty one',
    args: 0,
    options: [],
    async run(ctx) {
      const done = await prepareDatabase(ctx.config, createLogger('silent'));
      const lines = [
        ...(done.created ? ['created the database'] : []),
        done.migrations.length ? `applied migrations: ${done.migrations.join(', ')}` : 'schema is up to date',
        ...(done.seeded.length ? [`seeded demo players: ${done.seeded.join(', ')}`] : []),
      ];
      ctx.out.answer(done, lines);
      return 0;
    },
  },
  reconcile: {
    synopsis: '',
    summary: 'verifies every ledger invariant; exits 1 on any break',
    args: 0,
    options: [],
    async run(ctx) {
      const breaks = await reconcile(ctx.db());
      const lines = breaks.length
        ? [...breaks.map((b) => `break: ${b.check}: ${b.detail}`), `ledger has ${breaks.length} break${breaks.length === 1 ? '' : 's'}`]
        : ['ledger reconciled: no breaks'];
      ctx.out.answer({ breaks }, lines);
      return breaks.length ? 1 : 0;
    },
  },
  'player create': {
    synopsis: '<code> --currency <ISO> [--currency <ISO> ...]',
    summary: 'creates a player with an empty wallet per currency',
    args: 1,
    options: ['currency'],
    required: ['currency'],
    async run(ctx, [code], values) {
      const request = valid(newPlayer, { code, currencies: values.currency });
      return showPlayer(ctx, await offline(ctx).createPlayer(cliActor(), request.code, request.currencies));
    },
  },
  'player show': {
    synopsis: '<code>',
    summary: "shows a player's status and wallets",
    args: 1,
    options: [],
    run: async (ctx, [code]) => showPlayer(ctx, await new BackOffice(ctx.db()).player(PlayerCode(code!))),
  },
  'player block': setStatus('blocked'),
  'player unblock': setStatus('active'),
  deposit: cashier('deposit'),
  withdraw: cashier('withdrawal'),
  balance: {
    synopsis: '<code>',
    summary: "prints a player's balance in each currency",
    args: 1,
    options: [],
    async run(ctx, [code]) {
      const result = await new BackOffice(ctx.db()).player(PlayerCode(code!));
      if (!result.ok) return ctx.out.refused(result.reason);
      const wallets = walletsJson(result.value);
      ctx.out.answer(wallets, wallets.map((w) => `${w.currency} ${w.balance}`));
      return 0;
    },
  },
  history: {
    synopsis: '<code> [--limit <n>] [--before <id>]',
    summary: "lists a player's wallet movements, newest first",
    args: 1,
    options: ['limit', 'before'],
    async run(ctx, [code], values) {
      const { limit, before } = valid(historyRequest, { limit: values.limit, before: values.before });
      const result = await new BackOffice(ctx.db()).history(PlayerCode(code!), { limit, ...(before === undefined ? {} : { before: BigInt(before) }) });
      if (!result.ok) return ctx.out.refused(result.reason);
      const page = historyJson(result.value, limit);
      const lines = page.items.map((i) => {
        const amount = i.amount.startsWith('-') ? i.amount : `+${i.amount}`;
        const cause = i.reference ?? (i.provider ? `${i.provider} ${i.transactionId}` : '');
        return `${i.id}  ${i.createdAt}  ${i.kind.padEnd(12)}  ${amount} ${i.currency}  ${cause}`.trimEnd();
      });
      if (!lines.length) lines.push('no transactions');
      if (page.next) lines.push(`more: --before ${page.next}`);
      ctx.out.answer(page, lines);
      return 0;
    },
  },
  token: {
    synopsis: '--role <viewer|operator|admin> [--subject <name>] [--ttl <1h>]',
    summary: "prints a machine's bearer token for /v1 (a JWT with its role and expiry, signed with ADMIN_JWT_SECRET)",
    args: 0,
    options: ['role', 'subject', 'ttl'],
    async run(ctx, _args, values) {
      const role = values.role;
      if (role === undefined || !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: one of ${ROLES.join(', ')} (a token is worth what its role allows)`);
      const jwt = new SignJWT({ role }).setProtectedHeader({ alg: 'HS256' }).setSubject(values.subject ?? 'croupier-cli').setIssuedAt();
      try {
        jwt.setExpirationTime(values.ttl ?? '1h');
      } catch {
        throw new UsageError(`--ttl ${JSON.stringify(values.ttl)}: not a duration such as 15m, 1h or 7d`);
      }
      const token = await jwt.sign(new TextEncoder().encode(ctx.config.adminJwtSecret.reveal()));
      const { exp } = decodeJwt(token);
      if (exp === undefined || exp > Date.now() / 1000 + MAX_TOKEN_SECONDS) throw new UsageError(`--ttl ${JSON.stringify(values.ttl)}: at most 366d (the gateway refuses a longer-lived token)`);
      ctx.out.answer({ token }, [token]);
      return 0;
    },
  },
  'vendor-reconcile': {
    synopsis: '--provider <id> --from <ISO> --to <ISO> [--file <export> --currency <C>]',
    summary: "compares a provider's period with its vendor's records (its API, or an export file); exit 1 when anything is unmatched",
    args: 0,
    options: ['provider', 'from', 'to', 'file', 'currency'],
    required: ['provider', 'from', 'to'],
    async run(ctx, _args, v) {
      const period = valid(runRequest, { provider: v.provider, from: v.from, to: v.to });
      const reconciler = ctx.gateway().reconciler;
      let summary;
      try {
        if (v.file !== undefined) {
          const currency = currencyCode.safeParse(v.currency?.[0]);
          if (!currency.success) throw new UsageError('--currency: the export\'s currency (ISO 4217), with --file');
          const records = parseRecordsExport(await readFile(v.file, 'utf8'), currency.data);
          if (!records.ok) throw new UsageError(`${v.file}: ${records.message}`);
          summary = await reconciler.import(cliActor(), period.provider, period.from, period.to, records.value);
        } else {
          summary = await reconciler.run(cliActor(), period.provider, period.from, period.to);
        }
      } catch (error) {
        if (error instanceof ReconcileError) return ctx.out.refused(error.reason as never, error.message);
        throw error;
      }
      const open = summary.findings.filter((f) => f.state === 'open');
      ctx.out.answer(summary, [
        `${summary.provider} ${summary.from} .. ${summary.to} (${summary.source}): ${summary.vendorRecords} vendor records, ${summary.matched} matched, ${summary.findings.length} findings, ${open.length} open${summary.cleared ? `, ${summary.cleared} earlier finding${summary.cleared === 1 ? '' : 's'} no longer found (cleared)` : ''} (run ${summary.run})`,
        ...summary.findings.map((f) => `  #${f.id} ${f.kind} ${f.key} [${f.state}] ${f.detail}`),
      ]);
      return open.length > 0 ? 1 : 0;
    },
  },
  ...webhooks,
  ...vendorCommands,
  ...operatorCommands,
  'report ggr': {
    synopsis: '--from <YYYY-MM-DD> --to <YYYY-MM-DD> [--by day|month] [--provider <id>] [--game <code>] [--currency <c>] [--csv]',
    summary: 'revenue (GGR) per day or month, provider, game and currency, from the ledger; days are UTC, both --from and --to included, money in the day it moved',
    args: 0,
    options: ['from', 'to', 'by', 'provider', 'game', 'currency', 'csv'],
    required: ['from', 'to'],
    async run(ctx, _args, v) {
      const q = valid(ggrRequest, { from: v.from, to: v.to, by: v.by, provider: v.provider, game: v.game, currency: v.currency?.[0] });
      const rows = await new Reports(ctx.db()).ggr(q);
      if (v.csv) {
        process.stdout.write(ggrCsv(rows, q.by));
        return 0;
      }
      const json = rows.map((r) => ggrJson(r, q.by));
      const lines = json.map(
        (j) =>
          `${j.period}  ${j.provider.padEnd(14)} ${(j.game || '-').padEnd(16)} ${j.currency}  stakes ${j.stakes}  refunds ${j.refunds}  wins ${j.wins}  reversals ${j.reversals}  changes ${j.adjustments}  reconciliation ${j.reconciliation}  promo ${j.promoWins}  GGR ${j.ggr}  RTP ${j.rtp === null ? '-' : `${j.rtp}%`}`,
      );
      ctx.out.answer({ from: q.from, to: q.to, by: q.by, rows: json }, lines.length ? lines : ['no money moved in that period']);
      return 0;
    },
  },
};
