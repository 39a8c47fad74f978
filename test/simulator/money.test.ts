import { describe, expect, it } from 'vitest';
import { ExactNumber, jsonUnits, parseJson, parseUnits, units } from '../../simulator/money.ts';

/** The vendors' amounts on the wire: exact decimal text in the currency's units, never a float. */

describe('simulator money', () => {
  it('writes minor units as decimal text in the currency units', () => {
    expect(units(1250n, 'USD')).toBe('12.5');
    expect(units(1234n, 'EUR')).toBe('12.34');
    expect(units(5n, 'USD')).toBe('0.05');
    expect(units(0n, 'USD')).toBe('0');
    expect(units(-3n, 'USD')).toBe('-0.03');
    expect(units(700n, 'KRW')).toBe('700');
    expect(units(1234n, 'KWD')).toBe('1.234');
    // Past 2^53, where a float would round.
    expect(units(9_007_199_254_740_993n, 'USD')).toBe('90071992547409.93');
    expect(JSON.stringify({ amount: jsonUnits(9_007_199_254_740_993n, 'USD') })).toBe('{"amount":90071992547409.93}');
    expect(JSON.stringify({ amount: jsonUnits(10n, 'USD') })).toBe('{"amount":0.1}');
  });

  it('reads decimal text exactly, refusing more decimals than the currency has', () => {
    expect(parseUnits('12.5', 'USD')).toBe(1250n);
    expect(parseUnits('12.50', 'USD')).toBe(1250n);
    expect(parseUnits('0.1', 'USD')).toBe(10n);
    expect(parseUnits('-0.03', 'USD')).toBe(-3n);
    expect(parseUnits('1e3', 'KRW')).toBe(1000n);
    expect(parseUnits('1.5e1', 'USD')).toBe(1500n);
    expect(parseUnits('90071992547409.93', 'USD')).toBe(9_007_199_254_740_993n);
    expect(parseUnits('0.001', 'USD')).toBeUndefined();
    expect(parseUnits('1.5', 'KRW')).toBeUndefined();
    expect(parseUnits('abc', 'USD')).toBeUndefined();
    expect(parseUnits('', 'USD')).toBeUndefined();
  });

  it('parses JSON keeping every number as written', () => {
    const parsed = parseJson('{"a":0.1,"b":[12345678901234567890,1e3],"c":"0.1"}') as { a: ExactNumber; b: ExactNumber[]; c: string };
    expect(parsed.a).toEqual(new ExactNumber('0.1'));
    expect(parsed.b.map((n) => n.text)).toEqual(['12345678901234567890', '1e3']);
    expect(parsed.c).toBe('0.1');
    expect(JSON.stringify(parsed)).toBe('{"a":0.1,"b":[12345678901234567890,1e3],"c":"0.1"}');
  });
});
