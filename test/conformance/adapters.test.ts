import { existsSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { defineConformance, type Driver } from './kit.ts';

/**
 * Certifies every adapter folder that says how to speak the kit: providers/<name>/conformance.ts
 * exporting `driver`. A new provider is picked up without touching this file.
 */
const providers = path.resolve(import.meta.dirname, '../../providers');
for (const folder of readdirSync(providers, { withFileTypes: true })) {
  const file = path.join(providers, folder.name, 'conformance.ts');
  if (!folder.isDirectory() || !existsSync(file)) continue;
  const { driver } = (await import(pathToFileURL(file).href)) as { driver: Driver };
  defineConformance(driver);
}
