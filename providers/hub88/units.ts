import { exponentOf, type Currency } from '../../src/money/currency.ts';
import { MAX_MINOR, type Minor } from '../../src/money/minor.ts';
import { HUB_UNITS_PER_CURRENCY_UNIT } from './inferred.ts';

/**
 * Hub88 amounts: integers in 1/100000 of the currency unit ($3.56 is 356000). One minor unit is
 * 10^(5 - exponent) hub units: 1000 for USD (cents), 100000 for KRW (no minor unit). Converted
 * exactly, from the JSON number's source text; never through a float.
 */

export type Converted = { ok: true; value: Minor } | { ok: false; reason: string };

/** How many hub units make one minor unit of `currency`. */
export function hubUnitsPerMinor(currency: Currency): bigint {
  const minorPerUnit = 10n ** BigInt(exponentOf(currency));
  if (HUB_UNITS_PER_CURRENCY_UNIT % minorPerUnit !== 0n) throw new Error(`${currency} has more decimals than Hub88 amounts can carry`);
  return HUB_UNITS_PER_CURRENCY_UNIT / minorPerUnit;
}

const INT64_MAX = 2n ** 63n - 1n;

/** An amount as Hub88 writes it (the JSON number's digits) to minor units; refused unless a non-negative integer of whole minor units. */
export function fromHubUnits(source: string, currency: Currency): Converted {
  if (!/^(0|[1-9]\d{0,18})$/.test(source)) return { ok: false, reason: `not a non-negative integer: ${JSON.stringify(source.slice(0, 40))}` };
  const units = BigInt(source);
  if (units > INT64_MAX) return { ok: false, reason: 'amount out of range (Int64)' };
  const per = hubUnitsPerMinor(currency);
  if (units % per !== 0n) return { ok: false, reason: `${source} is not a whole number of ${currency} minor units (a multiple of ${per})` };
  const minor = units / per;
  if (minor > MAX_MINOR) return { ok: false, reason: 'amount out of range' };
  return { ok: true, value: minor };
}

/** Minor units to hub units, exactly. */
export const toHubUnits = (minor: Minor, currency: Currency): bigint => minor * hubUnitsPerMinor(currency);

/** Minor units as Hub88's integer JSON number (no float in between). */
export const hubAmountJson = (minor: Minor, currency: Currency): unknown => JSON.rawJSON(String(toHubUnits(minor, currency)));
