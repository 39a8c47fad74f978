/**
 * Currencies and their minor-unit exponents. The codes are those the ICU bundled with Node knows; the
 * exponents are ISO 4217's, pinned here rather than read from ICU: its CLDR data differs for some
 * (0 for HUF, IDR, COP, PKR and IQD, whose vendors may pay fractions, and a win refused for a decimal
 * is money withheld), and a Node upgrade could change it, while an exponent is what every amount
 * stored in that currency means.
 */
import { z } from 'zod';

export type Currency = string & { readonly __brand: 'Currency' };

const known = new Set(Intl.supportedValuesOf('currency'));

/** ISO 4217 minor units other than 2 (the codes with none, such as XAU, are kept at 2). */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export function isCurrency(code: string): code is Currency {
  return /^[A-Z]{3}$/.test(code) && known.has(code);
}

export function asCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`unknown currency ${JSON.stringify(code)}`);
  return code;
}

/** A currency code as a caller writes it, in either case ('usd' is USD): refused unless it is one. */
export const currencyCode = z.string().trim().toUpperCase().refine(isCurrency, 'not an ISO 4217 currency code (such as USD)').transform(asCurrency);

export function exponentOf(currency: Currency): number {
  return EXPONENTS[currency] ?? 2;
}
