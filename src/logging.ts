import pino, { type DestinationStream, type Logger } from 'pino';

/** Header and field names whose values never reach a log line. */
const REDACT = [
  'req.headers["callback-token"]',
  'req.headers["api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.callbackToken',
  '*.apiKey',
  '*.token',
  '*.password',
  '*.secret',
];

/** `destination` (default: stdout) lets a test capture the lines. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
