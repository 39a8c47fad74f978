/**
 * What Postgres can keep. Its text, and jsonb's strings and keys, cannot hold a NUL character, and a
 * string with an unpaired UTF-16 surrogate has no UTF-8 form (the driver would send U+FFFD for it,
 * so two different strings would be stored as one). A vendor's call may carry either; its raw body
 * is kept as bytes, losslessly, and these make what is derived from it storable.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Whether Postgres can store `s` exactly as it is. */
export const isStorable = (s: string): boolean => s.search(UNSTORABLE) === -1;

/** `s` made storable: each character Postgres cannot keep written as its visible escape (`\u0000`, `\ud800`). */
export const storableText = (s: string): string => s.replace(UNSTORABLE, escape);

/** JSON text that jsonb accepts: every string and key made storable, bigints as their digits. */
export const storableJson = (value: unknown): string => JSON.stringify(storable(value));

function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [storableText(key), storable(v)]));
  }
  return value; // numbers kept as written (JsonNumber), booleans, null
}
