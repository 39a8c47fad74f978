import { startCommandVendor, type CommandPlayOptions, type CommandVendor } from './command-vendor.ts';
import { startEventVendor, type EventPlayOptions, type EventVendor } from './event-vendor.ts';
import { Journal } from './journal.ts';

/**
 * The four demo vendor accounts of config/providers.json, with their `$demo` secrets, and the
 * bearer tokens of the three command-dialect vendors' own APIs.
 */
export const DEMO = {
  'scorpio-play': { dialect: 'command', currency: 'USD', port: 9101, callbackToken: 'demo-scorpio-play-callback-token', apiToken: 'demo-scorpio-play-api-token' },
  slotcity: { dialect: 'command', currency: 'EUR', port: 9102, callbackToken: 'demo-slotcity-callback-token', apiToken: 'demo-slotcity-api-token' },
  meganodes: { dialect: 'command', currency: 'KRW', port: 9103, callbackToken: 'demo-meganodes-callback-token', apiToken: 'demo-meganodes-api-token' },
  dowinn: { dialect: 'event', currency: 'USD', port: 9104, apiId: 'demo-dowinn-agent', apiKey: 'demo-dowinn-api-key-0123456789ab' },
} as const;

export type CommandVendorId = 'scorpio-play' | 'slotcity' | 'meganodes';
export type DemoVendorId = keyof typeof DEMO;
export const DEMO_IDS = Object.keys(DEMO) as DemoVendorId[];

/** Every vendor on a port of the operating system's choosing (tests, parallel runs). */
export const EPHEMERAL_PORTS: Readonly<Record<DemoVendorId, number>> = { 'scorpio-play': 0, slotcity: 0, meganodes: 0, dowinn: 0 };

export interface StartVendorsOptions {
  /** The gateway the vendors call back: `<gatewayUrl>/callbacks/<id>`; a function when it starts after them. */
  gatewayUrl: string | (() => string);
  host?: string;
  /** Per vendor; default the demo ports 9101-9104 (EPHEMERAL_PORTS: any free port). */
  ports?: Partial<Record<DemoVendorId, number>>;
  /** Replace demo secrets (e.g. with the values a gateway was started with). */
  secrets?: {
    callbackTokens?: Partial<Record<CommandVendorId, string>>;
    apiTokens?: Partial<Record<CommandVendorId, string>>;
    dowinnApiKey?: string;
  };
  /** Session defaults of every vendor (e.g. short retry delays and duplicates in tests). */
  play?: Partial<CommandPlayOptions & EventPlayOptions>;
  /** One journal for all four (default: a new one). */
  journal?: Journal;
  linkTtlMs?: number;
  log?: (line: string) => void;
}

export interface Vendors {
  'scorpio-play': CommandVendor;
  slotcity: CommandVendor;
  meganodes: CommandVendor;
  dowinn: EventVendor;
  readonly list: readonly (CommandVendor | EventVendor)[];
  readonly journal: Journal;
  /** Resolves once no vendor plays a session. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the four demo vendors; a failure to start one closes those already started. */
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
  const started: (CommandVendor | EventVendor)[] = [];
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
    return {
      'scorpio-play': scorpio,
      slotcity,
      meganodes,
      dowinn,
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
