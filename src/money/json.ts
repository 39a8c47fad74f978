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

export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: ReviverContext) {
    if (typeof value === 'number' && context?.source !== undefined) return new JsonNumber(context.source);
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}
