// JSON.rawJSON and JSON.isRawJSON (ES2025 "JSON.parse source text access"), shipped in Node 22+,
// not yet in TypeScript's lib.
interface JSON {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}
