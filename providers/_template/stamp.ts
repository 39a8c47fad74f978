import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `npm run new-provider -- <name>`: copies this template to providers/<name>/ with every name made
 * the vendor's (dialect, adapter, header, conformance instances and keys), the template's own notes
 * taken out, and registers the dialect in providers/index.ts. The copy passes the conformance kit as
 * it is; then the vendor's own wire format replaces the template's.
 */
const name = process.argv[2] ?? '';
if (!/^[a-z][a-z0-9]{1,30}$/.test(name)) {
  console.error('usage: npm run new-provider -- <name>   (lower-case letters and digits, e.g. acme)');
  process.exit(2);
}
const providers = path.join(import.meta.dirname, '..');
const target = path.join(providers, name);
if (existsSync(target)) {
  console.error(`providers/${name} already exists`);
  process.exit(1);
}
const Name = name[0]!.toUpperCase() + name.slice(1);
const ENV = name.toUpperCase();

/** The template's text made the vendor's: its names replaced, its notes (TEMPLATE lines) and template-only lines dropped. */
function stamped(text: string): string {
  const renamed = text
    .replaceAll('templateDialect', `${name}Dialect`)
    .replaceAll('TemplateAdapter', `${Name}Adapter`)
    .replaceAll('X-Template-Key', `X-${Name}-Key`)
    .replaceAll('x-template-key', `x-${name}-key`)
    .replaceAll('conformance-template', `conformance-${name}`)
    .replaceAll("'template'", `'${name}'`);
  const lines = renamed.split('\n').filter((line) => !/\bTEMPLATE(:|-ONLY)/.test(line));
  // A doc comment whose every line was a note goes with them.
  return lines.join('\n').replace(/^[ \t]*\/\*\*\n[ \t]*\*\/\n/gm, '');
}

cpSync(import.meta.dirname, target, { recursive: true, filter: (file) => path.basename(file) !== 'stamp.ts' });
for (const file of readdirSync(target)) {
  const full = path.join(target, file);
  writeFileSync(full, stamped(readFileSync(full, 'utf8')));
}

// Registration: the import beside the others, the entry at the end of the list.
const indexFile = path.join(providers, 'index.ts');
const index = readFileSync(indexFile, 'utf8');
const imports = [...index.matchAll(/^import \{ \w+Dialect \} from '\.\/[\w-]+\/adapter\.ts';\n/gm)];
const list = /(export const dialects: readonly Dialect\[\] = \[\n(?:  \w+,\n)*)(\];)/.exec(index);
if (!imports.length || !list) {
  console.error(`providers/${name}/ created, but providers/index.ts has an unexpected shape: add ${name}Dialect to its list by hand`);
  process.exit(1);
}
const last = imports.at(-1)!;
const at = last.index! + last[0].length;
const withImport = `${index.slice(0, at)}import { ${name}Dialect } from './${name}/adapter.ts';\n${index.slice(at)}`;
writeFileSync(indexFile, withImport.replace(list[0], `${list[1]}  ${name}Dialect,\n${list[2]}`));

console.log(`providers/${name}/ created from the template and registered in providers/index.ts.
Certify it at once:   CONFORMANCE_DIALECTS=${name} npx vitest run test/conformance
Then make it the vendor's: its wire format (wire.ts), the mapping (adapter.ts), its answer codes
(codes.ts) and how it says the kit's scenarios (conformance.ts); see providers/README.md.
To run it, configure an instance in config/providers.json:
  { "id": "${name}", "dialect": "${name}", "options": { "currency": "USD", "sharedKey": { "$env": "${ENV}_SHARED_KEY", "$demo": "demo-${name}-shared-key-0123" } } }
and set ${ENV}_SHARED_KEY in production (document it in docs/configuration.md).`);
