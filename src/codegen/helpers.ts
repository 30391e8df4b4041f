// The vocabulary of emitted code: each entry is a function the generated forward pass calls,
// with the tfjs-core exports it needs and, for the few that are not plain tfjs ops, its JS
// definition. The emitter records which entries a graph uses, so a module imports only the
// ops it runs and defines only the helpers it calls.

export interface Helper {
  /** tfjs-core exports the call needs. */
  readonly imports: readonly string[];
  /** Other helpers the definition calls. */
  readonly uses?: readonly string[];
  /** JS definition (one `const name = ...;` statement), or absent for a tfjs export used as is. */
  readonly source?: string;
}

export const HELPERS = {
  // free(...values): disposes values at their last use.
  free: { imports: [], source: `const free = (...values) => values.forEach((t) => t.dispose());` },
  // conv(x, filter, bias|null, strides, pad, dilations, activation): conv + bias + activation in one kernel.
  conv: {
    imports: ['fused'],
    source: `const conv = (x, w, b, s, p, d, a) => fused.conv2d({ x, filter: w, bias: b ?? undefined, strides: s, pad: p, dilations: d, activation: a });`,
  },
  // depthwise(...): the same for a depthwise conv (filter [kh, kw, C, multiplier]).
  depthwise: {
    imports: ['fused'],
    source: `const depthwise = (x, w, b, s, p, d, a) => fused.depthwiseConv2d({ x, filter: w, bias: b ?? undefined, strides: s, pad: p, dilations: d, activation: a });`,
  },
  // act(y, a): an activation after a kernel that cannot fuse it (consumes y).
  act: {
    imports: ['relu', 'relu6'],
    source: `const act = (y, a) => { if (a === 'linear') return y; const z = a === 'relu' ? relu(y) : relu6(y); y.dispose(); return z; };`,
  },
  // groupConv(x, filter, bias, groups, strides, pad, dilations, activation): one conv per group.
  groupConv: {
    imports: ['add', 'concat', 'conv2d', 'split', 'tidy'],
    uses: ['act'],
    source: `const groupConv = (x, w, b, g, s, p, d, a) => act(tidy(() => { const ws = split(w, g, 3); const y = concat(split(x, g, 3).map((xg, i) => conv2d(xg, ws[i], s, p, 'NHWC', d)), 3); return b ? add(y, b) : y; }), a);`,
  },
  // everyNth(y, sh, sw): rows 0, sh, 2sh, ... and columns 0, sw, ...: a strided window computed at
  // stride 1 (tfjs refuses strides and dilations both above 1). Consumes y.
  everyNth: {
    imports: ['stridedSlice'],
    source: `const everyNth = (y, sh, sw) => { const z = stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]); y.dispose(); return z; };`,
  },
  // padded(x, pads, value): x padded on H and W (for windows whose kernel takes no explicit pads).
  padded: {
    imports: ['pad'],
    source: `const padded = (x, p, v) => pad(x, [[0, 0], p[0], p[1], [0, 0]], v);`,
  },
  // avgPoolExact(x, kernel, strides, pads): average over the real (unpadded) positions of each window.
  avgPoolExact: {
    imports: ['avgPool', 'div', 'ones', 'tidy'],
    uses: ['padded'],
    source: `const avgPoolExact = (x, k, s, p) => tidy(() => div(avgPool(padded(x, p, 0), k, s, 'valid'), avgPool(padded(ones([1, x.shape[1], x.shape[2], 1]), p, 0), k, s, 'valid')));`,
  },
  // avgPoolPadded(x, kernel, strides, pads): average with padded zeros counted (count_include_pad).
  avgPoolPadded: {
    imports: ['avgPool', 'tidy'],
    uses: ['padded'],
    source: `const avgPoolPadded = (x, k, s, p) => tidy(() => avgPool(padded(x, p, 0), k, s, 'valid'));`,
  },
  // dense(x, weight, bias|null, activation): matmul + bias + activation in one kernel.
  dense: {
    imports: ['fused'],
    source: `const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });`,
  },
  // flatten(x): [N, H, W, C] -> [N, H*W*C]; NHWC is row-major, so a reshape is the (h*W + w)*C + c order.
  flatten: { imports: ['reshape'], source: `const flatten = (x) => reshape(x, [x.shape[0], -1]);` },
  add: { imports: ['add'] },
  addN: { imports: ['addN'] },
  batchNorm: { imports: ['batchNorm'] },
  concat: { imports: ['concat'] },
  gather: { imports: ['gather'] },
  maxPool: { imports: ['maxPool'] },
  avgPool: { imports: ['avgPool'] },
  mean: { imports: ['mean'] },
  relu: { imports: ['relu'] },
  relu6: { imports: ['relu6'] },
  softmax: { imports: ['softmax'] },
  tidy: { imports: ['tidy'] },
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
