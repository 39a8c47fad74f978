import { startCommandVendor, type CommandPlayOptions, type CommandVendor } from './command-vendor.ts';
import { readFileSync } from 'node:fs';
import { startEventVendor, type EventPlayOptions, type EventVendor } from './event-vendor.ts';
import { DEMO_HUB88_PRIVATE_KEY } from './hub88-demo-key.ts';
import { startHub88Vendor, type Hub88PlayOptions, type Hub88Vendor } from './hub88-vendor.ts';
import { Journal } from './journal.ts';

/**
 * The five demo vendor accounts of config/providers.json, with their `$demo` secrets, and the
 * bearer tokens of the three command-dialect vendors' own APIs. Hub88 signs with its own key
 * (hub88-demo-key.ts) and checks the casino's signatures with the public half of the casino's demo key.
 */
export const DEMO = {
  'scorpio-play': { dialect: 'command', currency: 'USD', port: 9101, callbackToken: 'demo-scorpio-play-callback-token', apiToken: 'demo-scorpio-play-api-token' },
  slotcity: { dialect: 'command', currency: 'EUR', port: 9102, callbackToken: 'demo-slotcity-callback-token', apiToken: 'demo-slotcity-api-token' },
  meganodes: { dialect: 'command', currency: 'KRW', port: 9103, callbackToken: 'demo-meganodes-callback-token', apiToken: 'demo-meganodes-api-token' },
  dowinn: { dialect: 'event', currency: 'USD', port: 9104, apiId: 'demo-dowinn-agent', apiKey: 'demo-dowinn-api-key-0123456789ab' },
  hub88: { dialect: 'hub88', currency: 'EUR', port: 9105, operatorId: 4242 },
} as const;

/** The casino's demo private key for the Hub88 instance, read from config/providers.json (the simulator needs its public half). */
function demoCasinoKey(): string {
  const file = JSON.parse(readFileSync(new URL('../config/providers.json', import.meta.url), 'utf8')) as { providers: { id: string; options: { casinoPrivateKey?: { $demo?: string } } }[] };
  const pem = file.providers.find((p) => p.id === 'hub88')?.options.casinoPrivateKey?.$demo;
  if (!pem) throw new Error('config/providers.json has no hub88 instance with a $demo casinoPrivateKey');
  return pem;
}

export type CommandVendorId = 'scorpio-play' | 'slotcity' | 'meganodes';
export type DemoVendorId = keyof typeof DEMO;
export const DEMO_IDS = Object.keys(DEMO) as DemoVendorId[];

/** Every vendor on a port of the operating system's choosing (tests, parallel runs). */
export const EPHEMERAL_PORTS: Readonly<Record<DemoVendorId, number>> = { 'scorpio-play': 0, slotcity: 0, meganodes: 0, dowinn: 0, hub88: 0 };

export interface StartVendorsOptions {
  /** The gateway the vendors call back: `<gatewayUrl>/callbacks/<id>`; a function when it starts after them. */
  gatewayUrl: string | (() => string);
  host?: string;
  /** Per vendor; default the demo ports 9101-9105 (EPHEMERAL_PORTS: any free port). */
  ports?: Partial<Record<DemoVendorId, number>>;
  /** Replace demo secrets (e.g. with the values a gateway was started with). */
  secrets?: {
    callbackTokens?: Partial<Record<CommandVendorId, string>>;
    apiTokens?: Partial<Record<CommandVendorId, string>>;
    dowinnApiKey?: string;
    /** The casino's Hub88 key (PEM, private or public): what the simulated Hub88 checks the casino's signatures with. */
    hub88CasinoKey?: string;
  };
  /** Session defaults of every vendor (e.g. short retry delays and duplicates in tests). */
  play?: Partial<CommandPlayOptions & EventPlayOptions & Hub88PlayOptions>;
  /** One journal for all five (default: a new one). */
  journal?: Journal;
  linkTtlMs?: number;
  log?: (line: string) => void;
}

export interface Vendors {
  'scorpio-play': CommandVendor;
  slotcity: CommandVendor;
  meganodes: CommandVendor;
  dowinn: EventVendor;
  hub88: Hub88Vendor;
  readonly list: readonly (CommandVendor | EventVendor | Hub88Vendor)[];
  readonly journal: Journal;
  /** Resolves once no vendor plays a session. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the five demo vendors; a failure to start one closes those already started. */
export async function startVendors(options: StartVendorsOptions): Promise<Vendors> {
  const journal = options.journal ?? new Journal();
  const gatewayUrl = options.gatewayUrl;
  const callback = (id: DemoVendorId) => () => `${(typeof gatewayUrl === 'function' ? gatewayUrl() : gatewayUrl).replace(/\/+$/, '')}/callbacks/${id}`;
  const common = {
    host: options.host ?? '127.0.0.1',
    journal,
    ...(options.play ? { play: options.play } : {}),
    ...(options.linkTtlMs === undefined ? {} : { linkTtlMs: options.linkTtlMs }),
    ...(options.log ? { log: options.log } : {}),
  };
  const started: (CommandVendor | EventVendor | Hub88Vendor)[] = [];
  try {
    const command = async (id: CommandVendorId) => {
      const demo = DEMO[id];
      const vendor = await startCommandVendor({
        ...common,
        id,
        currency: demo.currency,
        apiToken: options.secrets?.apiTokens?.[id] ?? demo.apiToken,
        callbackUrl: callback(id),
        callbackToken: options.secrets?.callbackTokens?.[id] ?? demo.callbackToken,
        port: options.ports?.[id] ?? demo.port,
      });
      started.push(vendor);
      return vendor;
    };
    const scorpio = await command('scorpio-play');
    const slotcity = await command('slotcity');
    const meganodes = await command('meganodes');
    const dowinn = await startEventVendor({
      ...common,
      id: 'dowinn',
      apiId: DEMO.dowinn.apiId,
      apiKey: options.secrets?.dowinnApiKey ?? DEMO.dowinn.apiKey,
      callbackUrl: callback('dowinn'),
      currencies: [DEMO.dowinn.currency],
      port: options.ports?.dowinn ?? DEMO.dowinn.port,
    });
    started.push(dowinn);
    const hub88 = await startHub88Vendor({
      ...common,
      id: 'hub88',
      operatorId: DEMO.hub88.operatorId,
      vendorPrivateKey: DEMO_HUB88_PRIVATE_KEY,
      casinoKey: options.secrets?.hub88CasinoKey ?? demoCasinoKey(),
      callbackUrl: callback('hub88'),
      currencies: [DEMO.hub88.currency],
      port: options.ports?.hub88 ?? DEMO.hub88.port,
    });
    started.push(hub88);
    return {
      'scorpio-play': scorpio,
      slotcity,
      meganodes,
      dowinn,
      hub88,
      list: started,
      journal,
      idle: async () => {
        await Promise.all(started.map((v) => v.idle()));
      },
      close: async () => {
        await Promise.all(started.map((v) => v.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((v) => v.close()));
    throw error;
  }
}

/** The environment that points the gateway's demo providers at these vendors (config/providers.json names the variables). */
export const vendorApiUrls = (vendors: Vendors): Record<string, string> => ({
  SCORPIO_PLAY_API_URL: vendors['scorpio-play'].url,
  SLOTCITY_API_URL: vendors.slotcity.url,
  MEGANODES_API_URL: vendors.meganodes.url,
  DOWINN_API_URL: vendors.dowinn.url,
  HUB88_API_URL: vendors.hub88.url,
});
