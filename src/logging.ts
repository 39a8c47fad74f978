import pino, { type Logger } from 'pino';

/** Header and field names whose values never reach a log line. */
const REDACT = [
  'req.headers["callback-token"]',
  'req.headers["api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.callbackToken',
  '*.apiKey',
  '*.token',
  '*.password',
  '*.secret',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}
