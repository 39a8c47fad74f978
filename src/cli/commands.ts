import { SignJWT } from 'jose';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import type { Db } from '../ledger/database.ts';
import { reconcile } from '../ledger/reconcile.ts';
import { createLogger } from '../logging.ts';
import { prepareDatabase } from '../service.ts';
import { BackOffice, type BackOfficeRefusal, type PlayerView } from '../wallet/backoffice.ts';
import {
  cashierAmount,
  cashierJson,
  cashierRequest,
  historyJson,
  historyRequest,
  newPlayer,
  playerJson,
  walletsJson,
} from '../wallet/backoffice-wire.ts';
import { PlayerCode } from '../wallet/types.ts';

/** The options any command may take; each command lists the ones it accepts. */
export const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  currency: { type: 'string', multiple: true },
  reference: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  subject: { type: 'string' },
  ttl: { type: 'string' },
} as const;

export type OptionName = Exclude<keyof typeof OPTIONS, 'json' | 'help'>;
export type Values = { [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : string };

/** The command line is wrong: the message says how, and the process exits 2. */
export class UsageError extends Error {}

export interface Output {
  /** Prints an answer: `json` with --json, the human lines otherwise. */
  answer(json: unknown, lines: readonly string[]): void;
  /** Prints a refusal of the back office; returns the exit code for it. */
  refused(reason: BackOfficeRefusal): number;
}

export interface Context {
  config: Config;
  /** The database pool, opened on first use (the caller closes it). */
  db(): Db;
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

const valid = <T>(schema: z.ZodType<T>, input: unknown): T => {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
  return parsed.data;
};

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
      const amount = cashierAmount(request.amount, request.currency);
      if (!amount.ok) throw new UsageError(`invalid amount: ${amount.reason}`);
      const result = await new BackOffice(ctx.db()).cashier(kind, PlayerCode(code!), request.currency, amount.value, request.reference);
      if (!result.ok) return ctx.out.refused(result.reason);
      const answer = cashierJson(request.reference, request.currency, result.value.balance, result.repeat === true);
      const verb = kind === 'deposit' ? 'deposited' : 'withdrew';
      const repeat = answer.repeat ? ' (a repeat of that reference: nothing changed)' : '';
      ctx.out.answer(answer, [`${verb} ${request.amount.trim()} ${request.currency} (${request.reference}); ${code} now has ${answer.balance} ${request.currency}${repeat}`]);
      return 0;
    },
  };
}

function setStatus(status: 'active' | 'blocked'): Command {
  return {
    synopsis: '<code>',
    summary: status === 'blocked' ? 'blocks a player: no more bets' : 'lets a blocked player play again',
    args: 1,
    options: [],
    run: async (ctx, [code]) => showPlayer(ctx, await new BackOffice(ctx.db()).setStatus(PlayerCode(code!), status)),
  };
}

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
      return showPlayer(ctx, await new BackOffice(ctx.db()).createPlayer(PlayerCode(request.code), request.currencies));
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
    synopsis: '[--subject <name>] [--ttl <1h>]',
    summary: 'prints a back-office JWT for /v1, signed with ADMIN_JWT_SECRET',
    args: 0,
    options: ['subject', 'ttl'],
    async run(ctx, _args, values) {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(values.subject ?? 'croupier-cli').setIssuedAt();
      try {
        jwt.setExpirationTime(values.ttl ?? '1h');
      } catch {
        throw new UsageError(`--ttl ${JSON.stringify(values.ttl)}: not a duration such as 15m, 1h or 7d`);
      }
      const token = await jwt.sign(new TextEncoder().encode(ctx.config.adminJwtSecret.reveal()));
      ctx.out.answer({ token }, [token]);
      return 0;
    },
  },
};
