import { dialects } from '../providers/index.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { createLogger, logDestination } from './logging.ts';
import { createGateway, prepareDatabase } from './service.ts';

let config;
try {
  config = loadConfig(process.env, dialects);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`croupier: configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger(config.logLevel, await logDestination(config.env, config.logFormat));
await prepareDatabase(config, log);
const gateway = createGateway(config, log);
await gateway.listen(config.http.port, config.http.host);
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
