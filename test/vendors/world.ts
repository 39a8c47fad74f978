import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EPHEMERAL_PORTS, startVendors, vendorApiUrls, type StartVendorsOptions, type Vendors } from '../../simulator/demo.ts';
import { configDir } from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A gateway and the five simulated demo vendors wired to each other, as in production: the gateway's
 * providers call the vendors' APIs, the vendors call back the gateway's /callbacks. Everything on
 * free ports, with its own database and Redis prefix.
 */

export interface World {
  gw: TestGateway;
  vendors: Vendors;
  /** Calls /v1 with an operator's token; the parsed JSON answer. */
  v1(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }>;
  close(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The demo providers of config/providers.json, with `change` applied to each instance's `api` block
 * (e.g. a short timeout), in a config directory of the test's own.
 */
export function demoProviders(change: (id: string, api: Record<string, unknown>) => Record<string, unknown>): string {
  const file = JSON.parse(readFileSync(path.join(ROOT, 'config/providers.json'), 'utf8')) as { providers: { id: string; options: { api: Record<string, unknown> } }[] };
  return configDir(file.providers.map((p) => ({ ...p, options: { ...p.options, api: change(p.id, p.options.api) } })));
}

export async function startWorld(options: { env?: Record<string, string>; vendors?: Omit<StartVendorsOptions, 'gatewayUrl'> } = {}): Promise<World> {
  let gatewayUrl = '';
  const vendors = await startVendors({ ports: EPHEMERAL_PORTS, ...options.vendors, gatewayUrl: () => gatewayUrl });
  let gw: TestGateway;
  try {
    gw = await startTestGateway({
      ...vendorApiUrls(vendors),
      ...options.env,
    });
  } catch (error) {
    await vendors.close();
    throw error;
  }
  gatewayUrl = gw.url;
  const token = await gw.adminToken();
  return {
    gw,
    vendors,
    async v1(method, route, body) {
      const res = await fetch(`${gw.url}/v1${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    async close() {
      await vendors.close();
      await gw.close();
    },
  };
}
