// permuteAxes against index formulas written out per layout, and its refusal of a non-permutation.
import { describe, expect, it } from 'vitest';
import { permuteAxes } from '../../src/util/permute_axes.ts';

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('permuteAxes', () => {
  it('moves OIHW filters to HWIO', () => {
    const [o, i, kh, kw] = [3, 2, 2, 4];
    const data = iota(o * i * kh * kw);
    const out = permuteAxes(data, [o, i, kh, kw], [2, 3, 1, 0]);
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) expect(out[((y * kw + x) * i + b) * o + a]).toBe(data[((a * i + b) * kh + y) * kw + x]);
  });

  it('transposes a matrix, and a permutation followed by its inverse is the identity', () => {
    expect(Array.from(permuteAxes(iota(6), [2, 3], [1, 0]))).toEqual([0, 3, 1, 4, 2, 5]);
    const data = iota(2 * 3 * 4 * 5);
    const nhwc = permuteAxes(data, [2, 3, 4, 5], [0, 2, 3, 1]);
    expect(permuteAxes(nhwc, [2, 4, 5, 3], [0, 3, 1, 2])).toEqual(data);
  });

  it('refuses a list that is not a permutation of the axes', () => {
    expect(() => permuteAxes(iota(6), [2, 3], [0, 0])).toThrow(/not a permutation of 2 axes/);
  });
});
