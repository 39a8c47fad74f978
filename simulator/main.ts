import { z } from 'zod';
import { DEMO, DEMO_IDS, startVendors, type Vendors } from './demo.ts';

/**
 * `npm run simulate`: the four demo vendors (three command-dialect, one event-dialect) on
 * 127.0.0.1:9101-9104, calling back the gateway at GATEWAY_URL. They answer the casino's calls to
 * their own APIs and, when a game URL is opened, play a session against the gateway. One log line
 * per call received and per session event; SIGINT or SIGTERM stops them.
 */

const port = z.coerce.number().int().min(0).max(65_535);
const secret = z.string().min(1).optional();
const env = z
  .object({
    GATEWAY_URL: z.url().default('http://127.0.0.1:8080'),
    SIMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
    SIMULATOR_SCORPIO_PLAY_PORT: port.default(DEMO['scorpio-play'].port),
    SIMULATOR_SLOTCITY_PORT: port.default(DEMO.slotcity.port),
    SIMULATOR_MEGANODES_PORT: port.default(DEMO.meganodes.port),
    SIMULATOR_DOWINN_PORT: port.default(DEMO.dowinn.port),
    SIMULATOR_HUB88_PORT: port.default(DEMO.hub88.port),
    // The gateway's own secret variables: when it runs with other values than the demo ones, so must its vendors.
    SCORPIO_PLAY_CALLBACK_TOKEN: secret,
    SLOTCITY_CALLBACK_TOKEN: secret,
    MEGANODES_CALLBACK_TOKEN: secret,
    DOWINN_API_KEY: z.string().refine((k) => Buffer.byteLength(k, 'utf8') === 32, 'must be 32 bytes').optional(),
    /** The casino's Hub88 key (its public key, or the private one of the gateway's HUB88_CASINO_PRIVATE_KEY): what the simulated Hub88 checks the casino's signatures with. */
    HUB88_CASINO_PUBLIC_KEY: z.string().optional(),
    SCORPIO_PLAY_API_TOKEN: secret,
    SLOTCITY_API_TOKEN: secret,
    MEGANODES_API_TOKEN: secret,
  })
  .safeParse(process.env);

if (!env.success) {
  console.error(`simulator: bad environment\n${z.prettifyError(env.error)}`);
  process.exit(1);
}
const e = env.data;
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const defined = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

let vendors: Vendors;
try {
  vendors = await startVendors({
    gatewayUrl: e.GATEWAY_URL,
    host: e.SIMULATOR_HOST,
    ports: { 'scorpio-play': e.SIMULATOR_SCORPIO_PLAY_PORT, slotcity: e.SIMULATOR_SLOTCITY_PORT, meganodes: e.SIMULATOR_MEGANODES_PORT, dowinn: e.SIMULATOR_DOWINN_PORT, hub88: e.SIMULATOR_HUB88_PORT },
    secrets: {
      callbackTokens: defined({ 'scorpio-play': e.SCORPIO_PLAY_CALLBACK_TOKEN, slotcity: e.SLOTCITY_CALLBACK_TOKEN, meganodes: e.MEGANODES_CALLBACK_TOKEN }),
      apiTokens: defined({ 'scorpio-play': e.SCORPIO_PLAY_API_TOKEN, slotcity: e.SLOTCITY_API_TOKEN, meganodes: e.MEGANODES_API_TOKEN }),
      ...(e.DOWINN_API_KEY ? { dowinnApiKey: e.DOWINN_API_KEY } : {}),
      ...(e.HUB88_CASINO_PUBLIC_KEY ? { hub88CasinoKey: e.HUB88_CASINO_PUBLIC_KEY.replaceAll('\\n', '\n') } : {}),
    },
    log,
  });
} catch (error) {
  console.error(`simulator: cannot start: ${(error as Error).message}`);
  process.exit(1);
}

for (const id of DEMO_IDS) {
  const v = vendors[id];
  const what = v.dialect === 'command' ? `command dialect, ${v.currency}` : v.dialect === 'event' ? `event dialect, Api-Id ${v.apiId}` : `hub88 dialect, operator ${DEMO.hub88.operatorId}`;
  log(`${id} (${what}) listening on ${v.url}, calling back ${e.GATEWAY_URL.replace(/\/+$/, '')}/callbacks/${id}`);
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping the vendors`);
  vendors.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`simulator: ${(error as Error).message}`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', () => stop('SIGINT'));
process.once('SIGTERM', () => stop('SIGTERM'));
