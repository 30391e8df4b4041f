// The one transpose of row-major Float32Array data: every layout change (OIHW filters to HWIO,
// NCHW batches to NHWC, [out, in] matrices to [in, out]) is a permutation of axes.

/**
 * `data` of shape `shape` with its axes reordered: axis k of the result is axis perm[k] of the
 * input (as numpy's transpose). Returns a new array.
 */
export function permuteAxes(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((a, k) => a !== k))
    throw new Error(`permuteAxes: [${perm.join(',')}] is not a permutation of ${rank} axes`);
  const inputStrides = new Array<number>(rank);
  for (let k = rank - 1, stride = 1; k >= 0; stride *= shape[k], k--) inputStrides[k] = stride;
  const outShape = perm.map((a) => shape[a]);
  const step = perm.map((a) => inputStrides[a]);
  const out = new Float32Array(data.length);
  // Walk the output in order, keeping the input offset of the current output index.
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let to = 0; to < out.length; to++) {
    out[to] = data[from];
    for (let k = rank - 1; k >= 0; k--) {
      from += step[k];
      if (++index[k] < outShape[k]) break;
      from -= step[k] * outShape[k];
      index[k] = 0;
    }
  }
  return out;
}
