import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Header and field names whose values never reach a log line, whatever the dialect. Each provider's
 * own credential headers are declared by its adapter and taken out of the request log where it is
 * written (src/http/app.ts); configured secrets are `Secret`s, which never print their value.
 */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.token', '*.password', '*.secret'];

/** `destination` (default: stdout) lets a test capture the lines. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Where the gateway's log goes: on a terminal outside production, lines a person can read
 * (pino-pretty, a development dependency: absent from a production install, then JSON); otherwise
 * (production, a pipe, a file) one JSON object per line for the log collector. LOG_FORMAT overrides.
 */
export async function logDestination(env: string, format: 'auto' | 'json' | 'pretty'): Promise<DestinationStream | undefined> {
  const pretty = format === 'pretty' || (format === 'auto' && env !== 'production' && process.stdout.isTTY === true);
  if (!pretty) return undefined;
  try {
    const { default: pinoPretty } = await import('pino-pretty');
    return pinoPretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}
