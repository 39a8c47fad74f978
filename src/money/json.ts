/**
 * JSON parsing that keeps every number's source text, so a vendor's 34.75 or 12345678901234567890
 * reaches the money parser digit for digit instead of as a float. Uses the reviver's source-text
 * context (ES2025 JSON.parse source text access).
 */
export class JsonNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
  toJSON(): unknown {
    return JSON.rawJSON(this.source);
  }
}

type ReviverContext = { source?: string };

/** A JSON text naming one key twice in an object: which of the two a reader keeps is its guess, so neither is taken. */
export class DuplicateKey extends SyntaxError {
  readonly key: string;
  constructor(key: string) {
    super(`the key ${JSON.stringify(key)} appears twice in one object`);
    this.key = key;
  }
}

/**
 * Parses JSON keeping every number's source text, and refuses a text that names a key twice in one
 * object (JSON.parse would keep the last silently, while a proxy or a vendor's own log may read the
 * first: the call would mean different things to different readers).
 */
export function parseJsonExact(text: string): unknown {
  const value = parseKeepingNumbers(text);
  const duplicate = duplicateKey(text);
  if (duplicate !== undefined) throw new DuplicateKey(duplicate);
  return value;
}

/**
 * The first key that appears twice in one object of `text`, which JSON.parse has accepted: a scan of
 * its strings and brackets, keys compared as JSON.parse reads them ("a" and "\u0061" are one key).
 */
function duplicateKey(text: string): string | undefined {
  const objects: (Set<string> | null)[] = []; // null: an array
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = objects.at(-1);
      if (keys && keyNext) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        keyNext = false;
      }
      i = end;
    } else if (c === '{') {
      objects.push(new Set());
      keyNext = true;
    } else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === ',') keyNext = objects.at(-1) instanceof Set;
  }
  return undefined;
}

function parseKeepingNumbers(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: ReviverContext) {
    if (typeof value === 'number' && context?.source !== undefined) return new JsonNumber(context.source);
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}
