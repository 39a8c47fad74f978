import { parseArgs } from 'node:util';
import { dialects } from '../../providers/index.ts';
import { ConfigError, loadConfig, type Config } from '../config/config.ts';
import { createDatabase, type Db } from '../ledger/database.ts';
import { createLogger } from '../logging.ts';
import { createGateway, type Gateway } from '../service.ts';
import { refusalJson } from '../wallet/backoffice-wire.ts';
import { COMMANDS, OPTIONS, UsageError, type Command, type Output, type Values } from './commands.ts';

/** Exit codes: 0 done, 1 refused or failed, 2 the command line is wrong. */
const OK = 0;
const FAILED = 1;
const USAGE = 2;

const usage = () =>
  [
    'usage: npm run cli -- <command> [--json]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${`${name} ${c.synopsis}`.trimEnd()}\n      ${c.summary}`),
    '  help',
    '      prints this text',
    '',
    '--json prints JSON instead of text. Exit codes: 0 done, 1 refused or failed, 2 usage error.',
    'Settings come from the environment, as for the gateway (README.md).',
  ].join('\n');

function findCommand(words: readonly string[]): { name: string; command: Command; args: string[] } | undefined {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(' ');
    const command = COMMANDS[name];
    if (words.length >= length && command) return { name, command, args: words.slice(length) };
  }
  return undefined;
}

function output(json: boolean): Output {
  return {
    answer(value, lines) {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : lines.map((l) => `${l}\n`).join(''));
    },
    refused(reason, message) {
      const refusal = refusalJson(reason);
      if (json) process.stdout.write(`${JSON.stringify(message ? { error: { ...refusal.error, message } } : refusal)}\n`);
      else process.stderr.write(`refused: ${reason}${message ? `: ${message}` : ''}\n`);
      return FAILED;
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`croupier: ${(error as Error).message}\nrun \`npm run cli -- help\` for the commands\n`);
    return USAGE;
  }
  const { positionals, values } = parsed;
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(`${usage()}\n`);
    return OK;
  }
  const found = findCommand(positionals);
  if (!found) {
    const what = positionals.length ? `unknown command ${JSON.stringify(positionals.join(' '))}` : 'no command given';
    process.stderr.write(`croupier: ${what}\n\n${usage()}\n`);
    return USAGE;
  }
  const { name, command, args } = found;
  const wrong = (message: string) => {
    process.stderr.write(`croupier: ${message}\nusage: npm run cli -- ${`${name} ${command.synopsis}`.trimEnd()} [--json]\n`);
    return USAGE;
  };
  if (args.length !== command.args) return wrong(`${name} takes ${command.args} argument${command.args === 1 ? '' : 's'}, got ${args.length}`);
  const given = Object.keys(values).filter((k) => k !== 'json' && k !== 'help');
  const stray = given.find((k) => !command.options.includes(k as keyof Values));
  if (stray) return wrong(`--${stray} does not apply to ${name}`);
  const missing = command.required?.find((k) => values[k] === undefined);
  if (missing) return wrong(`${name} needs --${missing}`);

  let config: Config;
  try {
    config = loadConfig(process.env, dialects);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`croupier: configuration error: ${error.message}\n`);
    return FAILED;
  }

  let db: Db | undefined;
  // One connection: a CLI command is a handful of sequential statements.
  // Maintenance commands (reconcile over a large ledger) may take longer than a callback's statement limit.
  const openDb = () => (db ??= createDatabase({ ...config.database, poolSize: 1, statementTimeoutMs: 0 }));
  let gateway: Gateway | undefined;
  // Logs go to stderr: stdout carries the answer.
  const openGateway = () => (gateway ??= createGateway(config, createLogger(config.logLevel, process.stderr)));
  try {
    return await command.run({ config, db: openDb, gateway: openGateway, out: output(values.json === true) }, args, values);
  } catch (error) {
    if (error instanceof UsageError) return wrong(error.message);
    const e = error as Error & { code?: string };
    process.stderr.write(`croupier: ${name} failed: ${e.message || e.code || String(error)}\n`);
    return FAILED;
  } finally {
    await db?.destroy();
    await gateway?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
