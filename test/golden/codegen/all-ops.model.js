const add = (a, b) => engine().runKernel('Add', { a, b }, {});
const addN = (xs) => engine().runKernel('AddN', xs, {});
const avgPool = (x, k, s, p) => engine().runKernel('AvgPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const padded = (x, p, v) => pad(x, [[0, 0], p[0], p[1], [0, 0]], v);
const avgPoolPadded = (x, k, s, p) => tidy(() => avgPool(padded(x, p, 0), k, s, 'valid'));
const batchNorm = (x, m, v, t, s, e) => engine().runKernel('FusedBatchNorm', { x, mean: m, variance: v, offset: t ?? undefined, scale: s ?? undefined }, { varianceEpsilon: e });
const concat = (xs) => engine().runKernel('SlimcConcatChannels', xs, {});
const conv = (x, w, b, s, p, d, a) => engine().runKernel('FusedConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });
const depthwise = (x, w, b, s, p, d, a) => engine().runKernel('FusedDepthwiseConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const everyNth = (y, sh, sw) => { const z = stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]); y.dispose(); return z; };
const flatten = (x) => engine().runKernel('Reshape', { x }, { shape: [x.shape[0], -1] });
const free = (...values) => values.forEach((t) => t.dispose());
const gather = (x, indices) => engine().runKernel('SlimcGatherChannels', { x }, { indices });
const relu = (x) => engine().runKernel('Relu', { x }, {});
const relu6 = (x) => engine().runKernel('Relu6', { x }, {});
const act = (y, a) => { if (a === 'linear') return y; const z = a === 'relu' ? relu(y) : relu6(y); y.dispose(); return z; };
const groupConv = (x, w, b, g, s, p, d, a) => act(tidy(() => { const ws = split(w, g, 3); const y = concat(split(x, g, 3).map((xg, i) => conv2d(xg, ws[i], s, p, 'NHWC', d))); return b ? add(y, b) : y; }), a);
const maxPool = (x, k, s, p) => engine().runKernel('MaxPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const mean = (x, axis, keepDims) => engine().runKernel('Mean', { x }, { axis, keepDims });
const softmax = (x, dim) => engine().runKernel('Softmax', { logits: x }, { dim });

function forward(W, K, [v0, v1]) {
  const v2 = conv(v0, W[0], W[1], 1, 'same', 1, 'relu'); free(v0); // %"/features/0/Conv"
  const v3 = everyNth(groupConv(v2, W[2], null, 2, 1, [[0, 0], [1, 0], [2, 1], [0, 0]], [1, 2], 'relu6'), 2, 1); // %grouped
  const v4 = depthwise(v3, W[3], W[4], 1, 'valid', 1, 'relu6'); free(v3); // %dw
  const v5 = maxPool(v4, 2, 2, 'same'); // %mp_same
  const v6 = avgPoolPadded(v4, 2, 1, [[1, 1], [1, 1]]); free(v4); // %ap_pad
  const v7 = avgPool(v6, 3, 1, 'valid'); // %ap_valid
  const v8 = maxPool(v6, 3, 1, [[0, 0], [0, 0], [1, 1], [0, 0]]); free(v6); // %mp_pad
  const v9 = mean(v5, [1, 2], true); free(v5); // %g1
  const v10 = mean(v7, [1, 2], true); free(v7); // %g2
  const v11 = mean(v8, [1, 2], true); free(v8); // %g3
  const v12 = addN([v9, v10, v11]); free(v9, v10, v11); // %sum3
  const v13 = gather(v12, K[0]); // %select
  const v14 = concat([v13, v12]); free(v12, v13); // %cat
  const v15 = depthwise(v14, W[5], W[6], 1, 'valid', 1, 'linear'); free(v14); // %ss_both
  const v16 = depthwise(v15, W[7], W[8], 1, 'valid', 1, 'linear'); free(v15); // %ss_shift
  const v17 = depthwise(v16, W[9], null, 1, 'valid', 1, 'linear'); free(v16); // %ss_scale
  const v18 = flatten(v17); free(v17); // %flat
  const v19 = dense(v18, W[10], W[11], 'relu'); free(v18); // %fc1
  const v20 = add(v19, v1); free(v1, v19); // %sum2
  const v21 = dense(v20, W[12], null, 'relu6'); free(v20); // %fc2
  const v22 = batchNorm(v21, K[1], K[2], W[13], W[14], 0); free(v21); // %bn_2d
  const v23 = softmax(v22, 1); free(v22); // %"prob \"out\""
  return [v23, v2];
}

/** Everything model-specific the runtime below reads. */
const MODEL = {
  info: {"name":"torch-jit export","inputs":[{"name":"x","shape":[1,8,8,4],"layout":"NHWC","sampleShape":[8,8,4]},{"name":"in:2","shape":[1,10],"layout":"NC","sampleShape":[10]}],"outputs":[{"name":"prob \"out\"","shape":[1,5],"layout":"NC"},{"name":"/features/0/Conv","shape":[1,8,8,8],"layout":"NHWC"}],"params":818,"macs":26558,"flops":53116,"peakActivationBytes":3840,"compiler":"slimc 0.1.0"},
  weightsFile: "model.weights.bin",
  weightsLayout: "98513ab9",
  weightCount: 16,
  uploadFrom: {"15":14},
  uploadShapes: {"3":[3,3,8,1],"5":[1,1,12,1],"7":[1,1,12,1],"9":[1,1,12,1],"15":[1,1,5,1]},
  backendVersion: "4.22.0",
  plan: null,
  planUnsupported: "grouped convolution %grouped (groups=2)",
  arenaFloatsPerSample: 960,
  constants: [["int32",[7,0,3,3]],["float32",[0]],["float32",[1]]],
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
