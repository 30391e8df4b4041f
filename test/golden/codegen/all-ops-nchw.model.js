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
const sigmoid = (x) => engine().runKernel('Sigmoid', { x }, {});
const act = (y, a) => { if (a === 'linear') return y; const z = a === 'relu' ? relu(y) : a === 'relu6' ? relu6(y) : sigmoid(y); y.dispose(); return z; };
const groupConv = (x, w, b, g, s, p, d, a) => act(tidy(() => { const ws = split(w, g, 3); const y = concat(split(x, g, 3).map((xg, i) => conv2d(xg, ws[i], s, p, 'NHWC', d))); return b ? add(y, b) : y; }), a);
const maxPool = (x, k, s, p) => engine().runKernel('MaxPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const mean = (x, axis, keepDims) => engine().runKernel('Mean', { x }, { axis, keepDims });
const mul = (a, b) => engine().runKernel('Multiply', { a, b }, {});
const softmax = (x, dim) => engine().runKernel('Softmax', { logits: x }, { dim });

function forward(W, K, [v0, v1]) {
  const v2 = conv(v0, W[0], W[1], 1, 'same', 1, 'relu'); free(v0); // %"/features/0/Conv"
  const v3 = everyNth(groupConv(v2, W[2], null, 2, 1, [[0, 0], [1, 0], [2, 1], [0, 0]], [1, 2], 'relu6'), 2, 1); // %grouped
  const v4 = depthwise(v3, W[3], W[4], 1, 'valid', 1, 'sigmoid'); free(v3); // %dw
  const v5 = depthwise(v4, W[5], W[6], 1, 'valid', 1, 'relu6'); free(v4); // %bn
  const v6 = sigmoid(v5); // %sw.sigmoid
  const v7 = mul(v5, v6); free(v6); // %sw
  const v8 = depthwise(v7, W[7], W[8], 1, 'valid', 1, 'relu6'); // %hsw.hard_sigmoid.plus3
  const v9 = depthwise(v8, W[9], null, 1, 'valid', 1, 'linear'); free(v8); // %hsw.hard_sigmoid
  const v10 = mul(v7, v9); free(v7, v9); // %hsw
  const v11 = mean(v10, [1, 2], true); // %squeeze
  const v12 = depthwise(v11, W[10], W[11], 1, 'valid', 1, 'relu6'); free(v11); // %hsig.plus3
  const v13 = depthwise(v12, W[12], null, 1, 'valid', 1, 'sigmoid'); free(v12); // %hsig
  const v14 = mul(v10, v13); free(v10, v13); // %gated
  const v15 = mul(v14, v14); free(v14); // %squared
  const v16 = maxPool(v15, 2, 2, 'same'); free(v15); // %mp_same
  const v17 = avgPoolPadded(v5, 2, 1, [[1, 1], [1, 1]]); free(v5); // %ap_pad
  const v18 = avgPool(v17, 3, 1, 'valid'); // %ap_valid
  const v19 = maxPool(v17, 3, 1, [[0, 0], [0, 0], [1, 1], [0, 0]]); free(v17); // %mp_pad
  const v20 = mean(v16, [1, 2], true); free(v16); // %g1
  const v21 = mean(v18, [1, 2], true); free(v18); // %g2
  const v22 = mean(v19, [1, 2], true); free(v19); // %g3
  const v23 = addN([v20, v21, v22]); free(v20, v21, v22); // %sum3
  const v24 = gather(v23, K[0]); // %select
  const v25 = concat([v24, v23]); free(v23, v24); // %cat
  const v26 = depthwise(v25, W[13], W[14], 1, 'valid', 1, 'linear'); free(v25); // %ss_both
  const v27 = depthwise(v26, W[15], W[16], 1, 'valid', 1, 'linear'); free(v26); // %ss_shift
  const v28 = depthwise(v27, W[17], null, 1, 'valid', 1, 'linear'); free(v27); // %ss_scale
  const v29 = flatten(v28); free(v28); // %flat
  const v30 = dense(v29, W[18], W[19], 'relu'); free(v29); // %fc1
  const v31 = add(v30, v1); free(v1, v30); // %sum2
  const v32 = dense(v31, W[20], null, 'relu6'); free(v31); // %fc2
  const v33 = batchNorm(v32, K[1], K[2], W[21], W[22], 0); free(v32); // %bn_2d
  const v34 = softmax(v33, 1); free(v33); // %"prob \"out\""
  return [v34, v2];
}

/** Everything model-specific the runtime below reads. */
const MODEL = {
  info: {"name":"torch-jit export","inputs":[{"name":"x","shape":[1,4,8,8],"layout":"NCHW","sampleShape":[4,8,8]},{"name":"in:2","shape":[1,10],"layout":"NC","sampleShape":[10]}],"outputs":[{"name":"prob \"out\"","shape":[1,5],"layout":"NC"},{"name":"/features/0/Conv","shape":[1,8,8,8],"layout":"NCHW"}],"params":882,"macs":26910,"flops":53820,"peakActivationBytes":4160,"compiler":"slimc 0.1.0"},
  weightsFile: "model.weights.bin",
  weightsLayout: "1cd32d5e",
  weightCount: 24,
  uploadFrom: {"23":22},
  uploadShapes: {"3":[3,3,8,1],"5":[1,1,8,1],"7":[1,1,8,1],"9":[1,1,8,1],"10":[1,1,8,1],"12":[1,1,8,1],"13":[1,1,12,1],"15":[1,1,12,1],"17":[1,1,12,1],"23":[1,1,5,1]},
  backendVersion: "4.22.0",
  plan: null,
  planUnsupported: "grouped convolution %grouped (groups=2)",
  arenaFloatsPerSample: 1040,
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
