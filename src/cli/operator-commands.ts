import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import type { Role } from '../ledger/schema.ts';
import type { Actor } from '../operators/audit.ts';
import { ROLES, type OperatorView } from '../operators/operators.ts';
import { auditJson, auditRequest, operatorJson } from '../http/operators.ts';
import type { Command, Context } from './commands.ts';
import { UsageError, valid } from './input.ts';

/** The CLI acts as the person logged in to the host: that name goes into the audit trail. */
/** Who the CLI acts as in the audit trail: the host account that ran it. */
export const cliActor = (): Actor => ({ name: `cli:${userInfo().username}`, via: 'cli' });

const roleOf = (value: string | undefined): Role => {
  if (value === undefined || !(ROLES as readonly string[]).includes(value)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
  return value as Role;
};

/**
 * A password from standard input: typed at a prompt that does not echo it, or the first line of what
 * is piped in (`printf %s "$PW" | npm run cli -- operator add ...`). Never a command-line argument,
 * which the shell's history and `ps` would keep.
 */
export async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const lines = createInterface({ input: stdin });
    for await (const line of lines) {
      lines.close();
      return line;
    }
    throw new UsageError('no password on standard input');
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const operatorLine = (o: OperatorView) => `${o.name.padEnd(24)} ${o.role.padEnd(8)} ${o.status.padEnd(8)} since ${o.createdAt.toISOString()}`;

const answer = (ctx: Context, result: Awaited<ReturnType<ReturnType<Context['gateway']>['operators']['add']>>, said: (o: OperatorView) => string) => {
  if (!result.ok) return ctx.out.refused(result.reason, result.message);
  ctx.out.answer(operatorJson(result.value), [said(result.value)]);
  return 0;
};

/** Operator accounts and the audit trail (the console's people), from the host. */
export const operatorCommands: Record<string, Command> = {
  'operator add': {
    synopsis: '<name> --role <viewer|operator|admin>   (password on standard input)',
    summary: 'creates a console account; its password is read from standard input (prompted without echo on a terminal)',
    args: 1,
    options: ['role'],
    required: ['role'],
    async run(ctx, [name], v) {
      const role = roleOf(v.role);
      const password = await readPassword(`password for ${name}: `);
      return answer(ctx, await ctx.gateway().operators.add(cliActor(), name!, role, password), (o) => `added ${o.name} (${o.role})`);
    },
  },
  'operator list': {
    synopsis: '',
    summary: 'lists the console accounts, their role and status',
    args: 0,
    options: [],
    async run(ctx) {
      const operators = await ctx.gateway().operators.list();
      ctx.out.answer({ operators: operators.map(operatorJson) }, operators.length ? operators.map(operatorLine) : ['no operators: add the first admin with `operator add <name> --role admin`']);
      return 0;
    },
  },
  'operator disable': {
    synopsis: '<name>',
    summary: 'disables an account (its sessions end at once); the last active admin cannot be',
    args: 1,
    options: [],
    async run(ctx, [name]) {
      return answer(ctx, await ctx.gateway().operators.setStatus(cliActor(), name!, 'disabled'), (o) => `${o.name} is disabled`);
    },
  },
  'operator enable': {
    synopsis: '<name>',
    summary: 'enables a disabled account again',
    args: 1,
    options: [],
    async run(ctx, [name]) {
      return answer(ctx, await ctx.gateway().operators.setStatus(cliActor(), name!, 'active'), (o) => `${o.name} is active`);
    },
  },
  'operator role': {
    synopsis: '<name> --role <viewer|operator|admin>',
    summary: "changes an account's role (its sessions end)",
    args: 1,
    options: ['role'],
    required: ['role'],
    async run(ctx, [name], v) {
      return answer(ctx, await ctx.gateway().operators.setRole(cliActor(), name!, roleOf(v.role)), (o) => `${o.name} is now ${o.role === 'admin' ? 'an' : 'a'} ${o.role}`);
    },
  },
  'operator passwd': {
    synopsis: '<name>   (password on standard input)',
    summary: "sets an account's password (read as for `operator add`); its sessions end",
    args: 1,
    options: [],
    async run(ctx, [name]) {
      const password = await readPassword(`new password for ${name}: `);
      return answer(ctx, await ctx.gateway().operators.passwd(cliActor(), name!, password), (o) => `password of ${o.name} changed`);
    },
  },
  audit: {
    synopsis: '[--actor <name>] [--action <a>] [--outcome ok|refused|failed] [--since <time>] [--until <time>] [--limit <n>] [--before <id>]',
    summary: 'lists the audit trail, newest first: sign-ins and every change, by whom, from where, with what outcome',
    args: 0,
    options: ['actor', 'action', 'outcome', 'since', 'until', 'limit', 'before'],
    async run(ctx, _args, v) {
      const query = valid(auditRequest, { actor: v.actor, action: v.action, outcome: v.outcome, since: v.since, until: v.until, limit: v.limit, before: v.before });
      const rows = await ctx.gateway().audit.list(query);
      const events = rows.map(auditJson);
      const lines = events.map((e) => `${e.id}  ${e.at}  ${e.actor} (${e.via}${e.ip ? ` ${e.ip}` : ''})  ${e.action}${e.target ? ` ${e.target}` : ''}  ${e.outcome}  ${JSON.stringify(e.detail)}`);
      if (!lines.length) lines.push('no events');
      if (rows.length === query.limit) lines.push(`more: --before ${events.at(-1)!.id}`);
      ctx.out.answer({ events, next: rows.length === query.limit ? events.at(-1)!.id : null }, lines);
      return 0;
    },
  },
};
