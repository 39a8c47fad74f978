import { describe, expect, it } from 'vitest';
import { asCurrency, currencyCode, exponentOf } from '../../src/money/currency.ts';
import { formatAmountFixed, parseAmount } from '../../src/money/minor.ts';

/**
 * A currency's exponent is what every amount stored in it means: ISO 4217's, pinned in the code, not
 * whatever the ICU bundled with this Node says (its CLDR data gives 0 for HUF, IDR, COP and IQD,
 * whose vendors may pay fractions; a Node upgrade could change it under a ledger).
 */
describe('minor units', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['KRW', 0],
    ['JPY', 0],
    ['CLP', 0],
    ['KWD', 3],
    ['BHD', 3],
    ['HUF', 2],
    ['IDR', 2],
    ['COP', 2],
    ['PKR', 2],
    ['IQD', 3],
  ])('%s has %i decimals, as ISO 4217 says', (code, digits) => {
    expect(exponentOf(asCurrency(code))).toBe(digits);
  });

  it('takes a HUF win of 12.75 exactly, and refuses what ISO 4217 does not hold', () => {
    const huf = asCurrency('HUF');
    expect(parseAmount('12.75', huf)).toEqual({ ok: true, value: 1275n });
    expect(formatAmountFixed(1275n, huf)).toBe('12.75');
    expect(parseAmount('1.125', asCurrency('IQD'))).toEqual({ ok: true, value: 1125n });
    expect(parseAmount('1.5', asCurrency('KRW')).ok).toBe(false);
  });
});

describe('a currency code as a caller writes it', () => {
  it('is read in either case, and refused when it is no currency', () => {
    expect(currencyCode.parse('huf')).toBe('HUF');
    expect(currencyCode.parse(' Usd ')).toBe('USD');
    for (const bad of ['US', 'usdd', 'ZZZ', '', 'ěur']) expect(currencyCode.safeParse(bad).success, bad).toBe(false);
  });
});
