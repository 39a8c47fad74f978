import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `npm run new-provider -- <name>`: copies this template to providers/<name>/ with its names replaced,
 * then says the two remaining steps (one registration line, one config entry).
 */
const name = process.argv[2] ?? '';
if (!/^[a-z][a-z0-9]{1,30}$/.test(name)) {
  console.error('usage: npm run new-provider -- <name>   (lower-case letters and digits, e.g. acme)');
  process.exit(2);
}
const here = import.meta.dirname;
const target = path.join(here, '..', name);
if (existsSync(target)) {
  console.error(`providers/${name} already exists`);
  process.exit(1);
}
const Name = name[0]!.toUpperCase() + name.slice(1);
cpSync(here, target, { recursive: true, filter: (file) => path.basename(file) !== 'stamp.ts' });
for (const file of readdirSync(target)) {
  const full = path.join(target, file);
  const text = readFileSync(full, 'utf8')
    .replaceAll('templateDialect', `${name}Dialect`)
    .replaceAll('templateDriver', `${name}Driver`)
    .replaceAll('TemplateAdapter', `${Name}Adapter`)
    .replaceAll('X-Template-Key', `X-${Name}-Key`)
    .replaceAll('x-template-key', `x-${name}-key`)
    .replaceAll("'template'", `'${name}'`);
  writeFileSync(full, text);
}
console.log(`providers/${name}/ created from the template. Next:
  1. Replace the wire format (wire.ts), the mapping (adapter.ts), the code table (codes.ts) and the
     conformance driver (conformance.ts) with the vendor's own; the TEMPLATE comments say what each holds.
  2. Register it: add \`${name}Dialect\` to the list in providers/index.ts (one line and its import).
  3. Configure an instance in config/providers.json: { "id": "${name}", "dialect": "${name}", "options": { ... } },
     secrets as { "$env": "VARIABLE", "$demo": "..." }.
  4. Certify it: npx vitest run test/conformance`);
