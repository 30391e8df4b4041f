// Timing helpers the benchmark scripts share.

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** What the A/B benchmarks time: one batch-1 predict. */
export interface Predictor {
  predict(x: Float32Array): Promise<unknown>;
}

/**
 * Milliseconds per predict of `a` and `b` on `x`: `warmup` predicts of each, then `runs` rounds of
 * one predict each, which goes first alternating, so that the machine's load hits both alike.
 * Returns every sample and the median of the per-round ratios a / b.
 */
export async function alternate(
  a: Predictor,
  b: Predictor,
  x: Float32Array,
  runs: number,
  warmup = 10,
): Promise<{ readonly a: number[]; readonly b: number[]; readonly ratio: number }> {
  for (const m of [a, b]) for (let i = 0; i < warmup; i++) await m.predict(x);
  const times: [number[], number[]] = [[], []];
  const models = [a, b];
  for (let r = 0; r < runs; r++)
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const start = performance.now();
      await models[k].predict(x);
      times[k].push(performance.now() - start);
    }
  return { a: times[0], b: times[1], ratio: median(times[0].map((t, i) => t / times[1][i])) };
}
