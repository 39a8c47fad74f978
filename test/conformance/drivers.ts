import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Driver } from './kit.ts';

/**
 * Every adapter folder that says how to speak the kit (providers/<name>/conformance.ts exporting
 * `driver`): a new provider is certified without touching the tests. CONFORMANCE_DIALECTS=a,b
 * certifies only those (the stamp check certifies the vendor it stamped, beside a full run).
 */
export async function drivers(): Promise<Driver[]> {
  const providers = path.resolve(import.meta.dirname, '../../providers');
  const only = process.env.CONFORMANCE_DIALECTS?.split(',');
  const found: Driver[] = [];
  for (const folder of readdirSync(providers, { withFileTypes: true })) {
    const file = path.join(providers, folder.name, 'conformance.ts');
    if (!folder.isDirectory() || !existsSync(file)) continue;
    const { driver } = (await import(pathToFileURL(file).href)) as { driver: Driver };
    if (!only || only.includes(driver.dialect)) found.push(driver);
  }
  return found;
}
