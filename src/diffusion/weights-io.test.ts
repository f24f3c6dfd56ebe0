import { describe, expect, it } from 'vitest';
import { fromHalf, toHalf } from './weights-io.js';

describe('float16 conversion', () => {
  it('rounds to the nearest half (ties to even), saturates to infinity, keeps subnormals', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(70000)).toBe(0x7c00);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie, even mantissa kept
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, rounded up to even
    expect(toHalf(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalf(2 ** -26)).toBe(0); // below half of it
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    for (const v of [0.5, -3.25, 1024, 2 ** -20, 0.1]) expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11);
  });
});
