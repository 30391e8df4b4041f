// Output comparison used by every equivalence test: the tolerance of the slimming contract,
// max |a - b| <= 1e-4 * max(1, max |reference|).
export interface Comparison {
  readonly maxAbsDiff: number;
  readonly maxAbsReference: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

export function compareOutputs(reference: Float32Array, actual: Float32Array, relative = 1e-4): Comparison {
  if (reference.length !== actual.length) throw new Error(`output lengths differ: ${reference.length} vs ${actual.length}`);
  let maxAbsDiff = 0;
  let maxAbsReference = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - actual[i]);
    maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxAbsDiff, d);
    maxAbsReference = Math.max(maxAbsReference, Math.abs(reference[i]));
  }
  const tolerance = relative * Math.max(1, maxAbsReference);
  return { maxAbsDiff, maxAbsReference, tolerance, ok: maxAbsDiff <= tolerance };
}
