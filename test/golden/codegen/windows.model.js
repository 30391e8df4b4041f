const avgPool = (x, k, s, p) => engine().runKernel('AvgPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const padded = (x, p, v) => pad(x, [[0, 0], p[0], p[1], [0, 0]], v);
const avgPoolExact = (x, k, s, p) => tidy(() => div(avgPool(padded(x, p, 0), k, s, 'valid'), avgPool(padded(ones([1, x.shape[1], x.shape[2], 1]), p, 0), k, s, 'valid')));
const avgPoolPadded = (x, k, s, p) => tidy(() => avgPool(padded(x, p, 0), k, s, 'valid'));
const concat = (xs) => engine().runKernel('SlimcConcatChannels', xs, {});
const conv = (x, w, b, s, p, d, a) => engine().runKernel('FusedConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });
const depthwise = (x, w, b, s, p, d, a) => engine().runKernel('FusedDepthwiseConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const everyNth = (y, sh, sw) => { const z = stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]); y.dispose(); return z; };
const flatten = (x) => engine().runKernel('Reshape', { x }, { shape: [x.shape[0], -1] });
const free = (...values) => values.forEach((t) => t.dispose());
const maxPool = (x, k, s, p) => engine().runKernel('MaxPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const mean = (x, axis, keepDims) => engine().runKernel('Mean', { x }, { axis, keepDims });

function forward(W, K, [v0]) {
  const v1 = conv(v0, W[0], W[1], 1, [[0, 0], [0, 2], [1, 0], [0, 0]], 1, 'linear'); free(v0); // %conv_asym
  const v2 = depthwise(v1, W[2], null, 1, [[0, 0], [2, 0], [0, 1], [0, 0]], 1, 'linear'); free(v1); // %dw_asym
  const v3 = everyNth(depthwise(v2, W[3], null, 1, [[0, 0], [2, 2], [2, 2], [0, 0]], 2, 'linear'), 2, 2); // %dw_strided_dilated
  const v4 = everyNth(conv(v2, W[4], null, 1, [[0, 0], [1, 1], [1, 1], [0, 0]], [1, 2], 'linear'), 2, 1); // %conv_strided_dilated
  const v5 = conv(v2, W[5], null, 1, 'same', 2, 'linear'); free(v2); // %conv_dilated
  const v6 = maxPool(v5, 3, 2, [[0, 0], [1, 0], [0, 1], [0, 0]]); // %max_asym
  const v7 = avgPoolExact(v5, 3, 2, [[1, 1], [1, 1]]); // %avg_same_exclusive
  const v8 = avgPoolPadded(v5, 3, 2, [[1, 1], [1, 1]]); // %avg_counting_pads
  const v9 = avgPoolExact(v5, 3, 2, [[1, 1], [1, 1]]); // %avg_explicit_exclusive
  const v10 = conv(v5, W[6], null, 1, 'same', 1, 'linear'); free(v5); // %conv_same_as_explicit
  const v11 = mean(v3, [1, 2], true); free(v3); // %gap1
  const v12 = mean(v4, [1, 2], true); free(v4); // %gap2
  const v13 = mean(v6, [1, 2], true); free(v6); // %gap3
  const v14 = mean(v7, [1, 2], true); free(v7); // %gap4
  const v15 = mean(v8, [1, 2], true); free(v8); // %gap5
  const v16 = mean(v9, [1, 2], true); free(v9); // %gap6
  const v17 = mean(v10, [1, 2], true); free(v10); // %gap7
  const v18 = concat([v11, v12, v13, v14, v15, v16, v17]); free(v11, v12, v13, v14, v15, v16, v17); // %concat1
  const v19 = flatten(v18); free(v18); // %flatten1
  const v20 = dense(v19, W[7], W[8], 'linear'); free(v19); // %fc
  return [v20];
}

/** Everything model-specific the runtime below reads. */
const MODEL = {
  info: {"name":"windows","inputs":[{"name":"x","shape":[1,9,7,4],"layout":"NHWC","sampleShape":[9,7,4]}],"outputs":[{"name":"fc","shape":[1,3],"layout":"NC"}],"params":1323,"macs":49590,"flops":99180,"peakActivationBytes":4608,"compiler":"slimc 0.1.0"},
  weightsFile: "model.weights.bin",
  weightsLayout: "54066b77",
  weightCount: 9,
  uploadFrom: {},
  uploadShapes: {"2":[3,3,6,1],"3":[3,3,6,1]},
  backendVersion: "4.22.0",
  plan: null,
  planUnsupported: "average pooling %avg_counting_pads counting padded positions",
  arenaFloatsPerSample: 1152,
  constants: [],
  forward,
};

/**
 * Loads the model: starts the wasm backend (once per process) and the weights.
 * opts.weights: path (Node), URL, ArrayBuffer or Uint8Array; default: the file next to this module.
 * opts.wasmPath: where the backend's .wasm files are (a directory URL, or a map by file name).
 * opts.threads: threads to run on (default 1, the plain SIMD build); info.backend says what runs.
 * opts.runtime: 'plan' (default) or 'engine'; info.runtime says what runs, and why.
 */
export const load = (opts = {}) => loadModel(MODEL, opts);
