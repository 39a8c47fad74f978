import { dialects } from '../providers/index.ts';
import { type Config, ConfigError, loadConfig } from './config/config.ts';
import { createLogger, logDestination } from './logging.ts';
import { createGateway, prepareDatabase } from './service.ts';

let config: Config;
try {
  config = loadConfig(process.env, dialects);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`croupier: configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

/** A start that fails for a reason the person starting it can fix, said in one line instead of a stack trace. */
function startFailure(error: unknown, where: string): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (where === 'listen' && code === 'EADDRINUSE') return `${config.http.host}:${config.http.port} is already in use: stop what holds it, or set PORT (0 picks a free port)`;
  if (where === 'listen' && code === 'EACCES') return `not allowed to listen on ${config.http.host}:${config.http.port}: set PORT to 1024 or above`;
  if (where === 'database' && (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')) {
    return `Postgres does not answer at DATABASE_URL (${code}): start it, or point DATABASE_URL at a server that runs`;
  }
  return undefined;
}

async function step<T>(where: 'database' | 'listen', run: () => Promise<T>, onFailure?: () => Promise<void>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const reason = startFailure(error, where);
    if (reason === undefined) throw error;
    console.error(`croupier: cannot start: ${reason}`);
    await onFailure?.().catch(() => {});
    process.exit(1);
  }
}

const log = createLogger(config.logLevel, await logDestination(config.env, config.logFormat));
await step('database', () => prepareDatabase(config, log));
const gateway = createGateway(config, log);
await step('listen', () => gateway.listen(config.http.port, config.http.host), () => gateway.close());
await gateway.startWorkers();
log.info({ host: config.http.host, port: config.http.port, providers: config.providers.map((p) => p.id) }, 'croupier is listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
