import { exponentOf, type Currency } from './currency.ts';

/** An amount in a currency's minor units (cents, won, ...). Never a float. */
export type Minor = bigint;

export const MAX_MINOR: Minor = 2n ** 63n - 1n; // Postgres bigint

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

export type ParseResult = { ok: true; value: Minor } | { ok: false; reason: string };

/**
 * Decimal text ("34.75", "1000", "1e3", as a vendor sends it) to minor units, exactly.
 * More significant decimals than the currency has is an error, never a rounding; trailing zeros
 * ("10.500" in USD) are exact and accepted. Negative amounts are refused: direction is the
 * operation's, never the sign's.
 */
export function parseAmount(text: string, currency: Currency): ParseResult {
  const m = DECIMAL.exec(text.trim());
  if (!m || text.length > 64) return { ok: false, reason: `not a decimal amount: ${JSON.stringify(text.slice(0, 64))}` };
  const [, minus, int = '', frac = '', exp = '0'] = m;
  if (minus) return { ok: false, reason: 'amount must not be negative' };
  const shift = Number(exp);
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 40) return { ok: false, reason: 'amount out of range' };
  // value = int.frac * 10^shift; in minor units it is digits * 10^(exponent + shift - frac.length)
  const digits = (int + frac).replace(/^0+(?=\d)/, '');
  const scale = exponentOf(currency) + shift - frac.length;
  let value: bigint;
  if (scale >= 0) {
    if (digits.length + scale > 25 && BigInt(digits) !== 0n) return { ok: false, reason: 'amount out of range' };
    value = BigInt(digits) * 10n ** BigInt(scale);
  } else {
    const cut = -scale;
    const divisor = 10n ** BigInt(cut);
    const whole = BigInt(digits);
    if (whole % divisor !== 0n) {
      return { ok: false, reason: `more than ${exponentOf(currency)} decimals for ${currency}` };
    }
    value = whole / divisor;
  }
  if (value > MAX_MINOR) return { ok: false, reason: 'amount out of range' };
  return { ok: true, value };
}

/** Minor units to canonical decimal text in currency units: 3475n USD -> "34.75", 1000n KRW -> "1000". */
export function formatAmount(value: Minor, currency: Currency): string {
  const e = exponentOf(currency);
  const negative = value < 0n;
  const abs = (negative ? -value : value).toString().padStart(e + 1, '0');
  const int = abs.slice(0, abs.length - e);
  const frac = abs.slice(abs.length - e).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Minor units to decimal text with all of the currency's decimals (3400n USD -> "34.00"): for reports and spreadsheets. */
export function formatAmountFixed(value: Minor, currency: Currency): string {
  const e = exponentOf(currency);
  const negative = value < 0n;
  const abs = (negative ? -value : value).toString().padStart(e + 1, '0');
  const int = abs.slice(0, abs.length - e);
  return `${negative ? '-' : ''}${int}${e ? `.${abs.slice(abs.length - e)}` : ''}`;
}

/** Minor units as an exact JSON number (no float in between), for dialects that answer numbers. */
export function amountAsJsonNumber(value: Minor, currency: Currency): unknown {
  return JSON.rawJSON(formatAmount(value, currency));
}

/**
 * An amount in `from`'s minor units re-expressed, exactly, in `to`'s (1050n USD -> 10500n KWD's
 * fils): undefined when `to` has too few decimals to hold it (1050n USD is 10.5, no JPY amount).
 */
export function rescale(value: Minor, from: Currency, to: Currency): Minor | undefined {
  const shift = exponentOf(to) - exponentOf(from);
  if (shift >= 0) return value * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return value % divisor === 0n ? value / divisor : undefined;
}
