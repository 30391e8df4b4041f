const add = (a, b) => engine().runKernel('Add', { a, b }, {});
const conv = (x, w, b, s, p, d, a) => engine().runKernel('FusedConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });
const depthwise = (x, w, b, s, p, d, a) => engine().runKernel('FusedDepthwiseConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const flatten = (x) => engine().runKernel('Reshape', { x }, { shape: [x.shape[0], -1] });
const free = (...values) => values.forEach((t) => t.dispose());
const maxPool = (x, k, s, p) => engine().runKernel('MaxPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const mean = (x, axis, keepDims) => engine().runKernel('Mean', { x }, { axis, keepDims });
const softmax = (x, dim) => engine().runKernel('Softmax', { logits: x }, { dim });

function forward(W, K, [v0]) {
  const v1 = conv(v0, W[0], null, 1, 'same', 1, 'linear'); free(v0); // %stem
  const v2 = depthwise(v1, W[1], W[2], 1, 'valid', 1, 'relu'); // %bn1
  const v3 = conv(v2, W[3], W[4], 1, 'same', 1, 'relu'); free(v2); // %a
  const v4 = conv(v3, W[5], null, 1, 'valid', 1, 'linear'); free(v3); // %b
  const v5 = add(v4, v1); free(v1, v4); // %add1
  const v6 = depthwise(v5, W[6], W[7], 1, 'valid', 1, 'relu'); free(v5); // %bn_out
  const v7 = maxPool(v6, 2, 2, 'valid'); free(v6); // %maxpool1
  const v8 = depthwise(v7, W[8], W[9], 2, 'same', 1, 'relu6'); free(v7); // %dw
  const v9 = conv(v8, W[10], W[11], 1, 'valid', 1, 'relu6'); free(v8); // %pw
  const v10 = mean(v9, [1, 2], true); free(v9); // %gap1
  const v11 = flatten(v10); free(v10); // %flatten1
  const v12 = dense(v11, W[12], W[13], 'linear'); free(v11); // %fc
  const v13 = softmax(v12, 1); free(v12); // %softmax1
  return [v13];
}

/** Everything model-specific the runtime below reads. */
const MODEL = {
  info: {"name":"preact-separable","inputs":[{"name":"x","shape":[1,8,8,3],"layout":"NHWC","sampleShape":[8,8,3]}],"outputs":[{"name":"softmax1","shape":[1,5],"layout":"NC"}],"params":825,"macs":36060,"flops":72120,"peakActivationBytes":5120,"compiler":"slimc 0.1.0"},
  weightsFile: "model.weights.bin",
  weightsLayout: "341084f3",
  weightCount: 14,
  uploadFrom: {},
  uploadShapes: {"1":[1,1,8,1],"6":[1,1,8,1],"8":[3,3,8,1]},
  backendVersion: "4.22.0",
  plan: {
    arena: 1280,
    slots: [[512,192],[0,512],[512,512],[1024,256],[512,512],[0,512],[512,128],[48,32],[0,48],[48,12],[0,5],[16,5]],
    values: [[0,[8,8,3]],[1,[8,8,8]],[2,[8,8,8]],[3,[8,8,4]],[4,[8,8,8]],[4,[8,8,8]],[5,[8,8,8]],[6,[4,4,8]],[7,[2,2,8]],[8,[2,2,12]],[9,[1,1,12]],[9,[12]],[10,[5]],[11,[5]]],
    inputs: [0],
    outputs: [13],
    exports: ["Add","AvgPool","FusedConv2D","FusedDepthwiseConv2D","MaxPool","Softmax","_FusedMatMul"],
    steps: [
      ["conv2d","stem",0,1,0,-1,3,3,1,1,1,1,1,1,1,1,0],
      ["depthwise","bn1",1,2,1,2,1,1,1,1,1,1,0,0,0,0,1],
      ["conv2d","a",2,3,3,4,3,3,1,1,1,1,1,1,1,1,1],
      ["conv2d","b",3,4,5,-1,1,1,1,1,1,1,0,0,0,0,0],
      ["add","add1",5,4,1],
      ["depthwise","bn_out",5,6,6,7,1,1,1,1,1,1,0,0,0,0,1],
      ["max_pool","maxpool1",6,7,2,2,2,2,0,0,0,0],
      ["depthwise","dw",7,8,8,9,3,3,2,2,1,1,0,1,1,0,2],
      ["conv2d","pw",8,9,10,11,1,1,1,1,1,1,0,0,0,0,2],
      ["avg_pool","gap1",9,10,2,2,1,1,0,0,0,0],
      ["dense","fc",11,12,12,13,0],
      ["softmax","softmax1",12,13],
    ],
  },
  planUnsupported: null,
  arenaFloatsPerSample: 1280,
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
