import { expect, it } from 'vitest';
import { logDestination } from '../../src/logging.ts';

it('logs JSON in production and to pipes, readable lines when asked (LOG_FORMAT) or on a terminal outside production', async () => {
  expect(await logDestination('production', 'auto')).toBeUndefined();
  expect(await logDestination('development', 'json')).toBeUndefined();
  // vitest's stdout is a pipe here, not a terminal.
  expect(process.stdout.isTTY).not.toBe(true);
  expect(await logDestination('development', 'auto')).toBeUndefined();
  const pretty = await logDestination('development', 'pretty');
  expect(pretty).toBeDefined();
  expect(typeof pretty!.write).toBe('function');
});
