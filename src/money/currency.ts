/**
 * Currencies and their minor-unit exponents. ICU (bundled with Node) carries the ISO 4217 table, so
 * no hand-kept list: KRW -> 0, USD -> 2, KWD -> 3.
 */
export type Currency = string & { readonly __brand: 'Currency' };

const known = new Set(Intl.supportedValuesOf('currency'));
const exponents = new Map<string, number>();

export function isCurrency(code: string): code is Currency {
  return /^[A-Z]{3}$/.test(code) && known.has(code);
}

export function asCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`unknown currency ${JSON.stringify(code)}`);
  return code;
}

export function exponentOf(currency: Currency): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, e);
  }
  return e;
}
