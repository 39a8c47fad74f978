import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, environment } from '../../src/config/config.ts';
import { dialects } from '../../providers/index.ts';

/** Every setting a newcomer can set is in docs/configuration.md, and so is every provider's secret. */
const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');

describe('docs/configuration.md', () => {
  it('documents every environment variable the configuration schema reads', () => {
    const missing = Object.keys(environment.shape).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('names every $env variable of config/providers.json', () => {
    const providers = readFileSync(path.resolve(import.meta.dirname, '../../config/providers.json'), 'utf8');
    const names = [...providers.matchAll(/"\$env":\s*"([A-Z0-9_]+)"/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => !doc.includes(name))).toEqual([]);
    // The configuration still loads as documented (demo values outside production).
    expect(loadConfig({}, dialects).providers.length).toBeGreaterThan(0);
  });
});
