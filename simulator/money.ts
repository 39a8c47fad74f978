/**
 * The vendor's side of money on the wire: amounts are integers in minor units (bigint) inside the
 * simulator and exact decimal text in the currency's units on the wire ("12.5" USD, "700" KRW).
 * Written apart from the gateway's own money code on purpose: the simulator checks the gateway, so
 * it must not share its mistakes.
 */

const exponents = new Map<string, number>();

/** Decimals of a currency's unit (ISO 4217, from ICU): USD 2, KRW 0. */
export function exponentOf(currency: string): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, e);
  }
  return e;
}

/** Whether `code` is an ISO 4217 currency. */
export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && Intl.supportedValuesOf('currency').includes(code);
}

/** Minor units as decimal text in currency units, without trailing zeros: 1250n USD -> "12.5", -3n USD -> "-0.03". */
export function units(minor: bigint, currency: string): string {
  const e = exponentOf(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(e + 1, '0');
  const int = digits.slice(0, digits.length - e);
  const frac = digits.slice(digits.length - e).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Minor units as a JSON number written digit for digit (JSON.stringify never sees a float). */
export const jsonUnits = (minor: bigint, currency: string): unknown => JSON.rawJSON(units(minor, currency));

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,3}))?$/;

/** Decimal text in currency units to minor units, exactly; undefined if it is not a decimal or has more decimals than the currency. */
export function parseUnits(text: string, currency: string): bigint | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m || text.length > 64) return undefined;
  const [, minus, int = '', frac = '', exp = '0'] = m;
  const scale = exponentOf(currency) + Number(exp) - frac.length;
  let value = BigInt(int + frac);
  if (scale >= 0) value *= 10n ** BigInt(scale);
  else {
    const divisor = 10n ** BigInt(-scale);
    if (value % divisor !== 0n) return undefined;
    value /= divisor;
  }
  return minus ? -value : value;
}

/** A JSON number as it was written, so an amount never passes through a float. */
export class ExactNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON(): unknown {
    return JSON.rawJSON(this.text);
  }
}

type ReviverContext = { source?: string };

/** JSON.parse, with every number kept as an ExactNumber (ES2025 source text access). */
export function parseJson(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _key: string, value: unknown, context?: ReviverContext) {
    return typeof value === 'number' && context?.source !== undefined ? new ExactNumber(context.source) : value;
  } as (this: unknown, key: string, value: unknown) => unknown);
}
