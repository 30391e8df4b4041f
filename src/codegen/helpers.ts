// The vocabulary of emitted code: each entry is a function the generated forward pass calls,
// with the tfjs-core exports and other helpers it needs and its JS definition. The emitter
// records which entries a graph uses, so a module imports only what it runs and defines only
// the helpers it calls.
//
// Most helpers call a tfjs kernel directly through engine().runKernel, with the inputs and
// attributes the tfjs op (tf.fused.conv2d, tf.relu, ...) would pass it. The ops validate and
// convert their arguments and, for the fused ones, wrap the kernel for gradients, which costs
// up to ten times the kernel's own dispatch on small layers (about 48 us against 5 us for a
// small fused conv); the IR's shapes are verified at compile time, so the module skips that.
// Kernel names and attributes are those of tfjs 4.22, which slimc pins.

export interface Helper {
  /** tfjs-core exports the definition needs. */
  readonly imports: readonly string[];
  /** Other helpers the definition calls. */
  readonly uses?: readonly string[];
  /** JS definition: one `const name = ...;` statement. */
  readonly source: string;
}

/** `const name = (params) => engine().runKernel(kernel, inputs, attrs);` */
const kernel = (name: string, params: string, kernelName: string, inputs: string, attrs = '{}'): Helper => ({
  imports: ['engine'],
  source: `const ${name} = (${params}) => engine().runKernel('${kernelName}', ${inputs}, ${attrs});`,
});

export const HELPERS = {
  // free(...values): disposes values at their last use.
  free: { imports: [], source: `const free = (...values) => values.forEach((t) => t.dispose());` },
  // conv(x, filter, bias|null, strides, pad, dilations, activation): conv + bias + activation in one kernel.
  conv: kernel(
    'conv',
    'x, w, b, s, p, d, a',
    'FusedConv2D',
    '{ x, filter: w, bias: b ?? undefined }',
    "{ strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined }",
  ),
  // depthwise(...): the same for a depthwise conv (filter [kh, kw, C, multiplier]); unlike
  // tf.fused.depthwiseConv2d, the kernel takes explicit padding.
  depthwise: kernel(
    'depthwise',
    'x, w, b, s, p, d, a',
    'FusedDepthwiseConv2D',
    '{ x, filter: w, bias: b ?? undefined }',
    "{ strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined }",
  ),
  // batchNorm(x, mean, variance, offset|null, scale|null, epsilon); with mean 0, variance 1 and
  // epsilon 0 it is x * scale + offset in one pass (the kernel cycles through [C] parameters).
  batchNorm: kernel(
    'batchNorm',
    'x, m, v, t, s, e',
    'FusedBatchNorm',
    '{ x, mean: m, variance: v, offset: t ?? undefined, scale: s ?? undefined }',
    '{ varianceEpsilon: e }',
  ),
  relu: kernel('relu', 'x', 'Relu', '{ x }'),
  relu6: kernel('relu6', 'x', 'Relu6', '{ x }'),
  sigmoid: kernel('sigmoid', 'x', 'Sigmoid', '{ x }'),
  add: kernel('add', 'a, b', 'Add', '{ a, b }'),
  // mul(a, b): b of a's shape, or [N, 1, 1, C] broadcast over H and W (a squeeze-excite gate).
  mul: kernel('mul', 'a, b', 'Multiply', '{ a, b }'),
  // silu, hard_sigmoid and hard_swish: lowering writes them with sigmoid, mul, relu6 and
  // multiply-adds (expand_activations.ts); these serve graphs emitted without that pass.
  silu: { imports: ['tidy'], uses: ['mul', 'sigmoid'], source: `const silu = (x) => tidy(() => mul(x, sigmoid(x)));` },
  hard_sigmoid: {
    imports: ['scalar', 'tidy'],
    uses: ['add', 'mul', 'relu6'],
    source: `const hard_sigmoid = (x) => tidy(() => mul(relu6(add(x, scalar(3))), scalar(1 / 6)));`,
  },
  hard_swish: {
    imports: ['tidy'],
    uses: ['hard_sigmoid', 'mul'],
    source: `const hard_swish = (x) => tidy(() => mul(x, hard_sigmoid(x)));`,
  },
  addN: kernel('addN', 'xs', 'AddN', 'xs'),
  // concat(xs) along the last axis and gather(x, indices), the channels (last axis) an Int32Array
  // selects, run the module's own kernels (runtime/model_runtime.js): the backend's Concat
  // allocates per pixel and its GatherV2 per element.
  concat: kernel('concat', 'xs', 'SlimcConcatChannels', 'xs'),
  gather: kernel('gather', 'x, indices', 'SlimcGatherChannels', '{ x }', '{ indices }'),
  maxPool: kernel('maxPool', 'x, k, s, p', 'MaxPool', '{ x }', '{ filterSize: k, strides: s, pad: p, dimRoundingMode: undefined }'),
  avgPool: kernel('avgPool', 'x, k, s, p', 'AvgPool', '{ x }', '{ filterSize: k, strides: s, pad: p, dimRoundingMode: undefined }'),
  mean: kernel('mean', 'x, axis, keepDims', 'Mean', '{ x }', '{ axis, keepDims }'),
  softmax: kernel('softmax', 'x, dim', 'Softmax', '{ logits: x }', '{ dim }'),
  // flatten(x): [N, H, W, C] -> [N, H*W*C]; NHWC is row-major, so a reshape is the (h*W + w)*C + c order.
  flatten: kernel('flatten', 'x', 'Reshape', '{ x }', '{ shape: [x.shape[0], -1] }'),
  // dense(x, weight, bias|null, activation): matmul + bias + activation in one kernel (one per
  // network, so the op's overhead does not matter).
  dense: {
    imports: ['fused'],
    source: `const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });`,
  },
  // act(y, a): an activation after a kernel that cannot fuse it (consumes y).
  act: {
    imports: [],
    uses: ['relu', 'relu6', 'sigmoid'],
    source: `const act = (y, a) => { if (a === 'linear') return y; const z = a === 'relu' ? relu(y) : a === 'relu6' ? relu6(y) : sigmoid(y); y.dispose(); return z; };`,
  },
  // groupConv(x, filter, bias, groups, strides, pad, dilations, activation): one conv per group.
  groupConv: {
    imports: ['conv2d', 'split', 'tidy'],
    uses: ['act', 'add', 'concat'],
    source: `const groupConv = (x, w, b, g, s, p, d, a) => act(tidy(() => { const ws = split(w, g, 3); const y = concat(split(x, g, 3).map((xg, i) => conv2d(xg, ws[i], s, p, 'NHWC', d))); return b ? add(y, b) : y; }), a);`,
  },
  // everyNth(y, sh, sw): rows 0, sh, 2sh, ... and columns 0, sw, ...: a strided window computed at
  // stride 1 (tfjs refuses strides and dilations both above 1). Consumes y.
  everyNth: {
    imports: ['stridedSlice'],
    source: `const everyNth = (y, sh, sw) => { const z = stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]); y.dispose(); return z; };`,
  },
  // padded(x, pads, value): x padded on H and W.
  padded: {
    imports: ['pad'],
    source: `const padded = (x, p, v) => pad(x, [[0, 0], p[0], p[1], [0, 0]], v);`,
  },
  // avgPoolExact(x, kernel, strides, pads): average over the real (unpadded) positions of each window.
  avgPoolExact: {
    imports: ['div', 'ones', 'tidy'],
    uses: ['avgPool', 'padded'],
    source: `const avgPoolExact = (x, k, s, p) => tidy(() => div(avgPool(padded(x, p, 0), k, s, 'valid'), avgPool(padded(ones([1, x.shape[1], x.shape[2], 1]), p, 0), k, s, 'valid')));`,
  },
  // avgPoolPadded(x, kernel, strides, pads): average with padded zeros counted (count_include_pad).
  avgPoolPadded: {
    imports: ['tidy'],
    uses: ['avgPool', 'padded'],
    source: `const avgPoolPadded = (x, k, s, p) => tidy(() => avgPool(padded(x, p, 0), k, s, 'valid'));`,
  },
} as const satisfies Record<string, Helper>;

export type HelperName = keyof typeof HELPERS;

/** The helpers `used` need, with their dependencies, in a stable order (definitions before uses). */
export function helperClosure(used: Iterable<HelperName>): HelperName[] {
  const out: HelperName[] = [];
  const visit = (name: HelperName) => {
    if (out.includes(name)) return;
    const helper: Helper = HELPERS[name];
    (helper.uses ?? []).forEach((dependency) => visit(dependency as HelperName));
    out.push(name);
  };
  [...used].sort().forEach(visit);
  return out;
}
