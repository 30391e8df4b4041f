// The slimc DSL: networks as plain TypeScript functions of values.
//
//   export default model('tiny', { input: [32, 32, 3] }, (x) => {
//     const h = relu(batchNorm(conv2d(x, 16)));
//     return dense(flatten(globalAvgPool(h)), 10);
//   });
//
// A value knows its rank in its type: conv2d and pooling take and give `Value<4>` (NHWC),
// dense takes `Value<2>`, and flatten/globalAvgPool move between them, so `dense(conv2d(...))`
// does not compile. Each call appends one node to the graph the value belongs to; nothing is
// global, so models can be built concurrently.
//
// Initialisation (seeded by `seed`, default 1, so a model is the same on every machine):
// - conv2d filters: He normal, std = sqrt(2 / (kh * kw * cout)), as the Network Slimming code;
//   conv biases 0 (the paper's convs have none: bias is off unless asked for);
// - dense: weights normal(0, 0.01), bias 0;
// - batch_norm: gamma 0.5 (the paper's sparsity-training start), beta 0, running mean 0, var 1.
// `weights` replaces the initial values by name (for instance from a weights file).
import type { ElementwiseOp } from '../ir/elementwise.ts';
import { GraphError } from '../ir/errors.ts';
import { GraphBuilder } from '../ir/graph_builder.ts';
import type { Activation, Graph, Node, Padding, Pair, ValueId, Weights } from '../ir/types.ts';
import { f32 } from '../ir/types.ts';
import { replaceWeights } from '../ir/replace_weights.ts';
import { verify } from '../ir/verify.ts';
import { Rng } from '../util/random.ts';

/** The rank of a DSL value: 4 for NHWC feature maps, 2 for [N, features] after flatten. */
export type Rank = 2 | 4;

/** A value of the graph under construction: what every DSL function takes and returns. */
export interface Value<R extends Rank = Rank> {
  readonly id: ValueId;
  readonly shape: readonly number[];
  readonly rank: R;
  /** The graph under construction this value belongs to. */
  readonly builder: ModelBuilder;
}

type DistributeValue<R> = R extends Rank ? Value<R> : never;
/** A value of either rank (what a model's body may return). */
export type AnyValue = DistributeValue<Rank>;

/**
 * The graph a model function builds behind its values: layer names, scopes and seeded initial
 * weights.
 * @internal
 */
export class ModelBuilder extends GraphBuilder {
  private readonly counters = new Map<string, number>();
  private readonly scopes: string[] = [];
  readonly rng: Rng;

  constructor(
    readonly name: string,
    seed: number,
  ) {
    super();
    this.rng = new Rng(seed);
  }

  /** A fresh layer name: `conv3`, or `stage2.block1.conv3` inside scopes; or the given one. */
  freshName(kind: string, given?: string): string {
    const prefix = this.scopes.length > 0 ? `${this.scopes.join('.')}.` : '';
    if (given !== undefined) return prefix + given;
    const key = prefix + kind;
    const k = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, k);
    return `${prefix}${kind}${k}`;
  }

  inScope<T>(name: string, body: () => T): T {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  addWeight(name: string, shape: readonly number[], sample: () => number): string {
    if (this.weights[name]) throw new GraphError(`weight @${name} is defined twice`, this.name);
    const n = shape.reduce((a, b) => a * b, 1);
    this.weights[name] = { shape, data: this.rng.fill(n, sample) };
    return name;
  }

  /** Appends a node whose type is computed by the shape rules, and returns its value. */
  push<R extends Rank>(node: Node, rank: R): Value<R> {
    if (this.has(node.id)) throw new GraphError(`a value named %${node.id} exists already; give this layer another name`, this.name);
    const typed = this.add(node);
    return { id: typed.id, shape: typed.type.shape, rank, builder: this };
  }
}

/** The input and initialisation of a model. */
export interface ModelSpec {
  /** Per-sample input shape: [H, W, C] for images. */
  readonly input: readonly [number, number, number];
  /** The batch dimension recorded in the IR types (executors accept any batch). Default 1. */
  readonly batch?: number;
  /** Seed of the weight initialisation. Default 1. */
  readonly seed?: number;
  /** Weights by name that replace the initial values (shapes must match). */
  readonly weights?: Weights;
  /** Name of the input value. Default `x`. */
  readonly inputName?: string;
}

/**
 * Builds a verified graph from a function of the input value; the body returns the output
 * value (or several). A model file's default export is such a graph, or a function returning one.
 * @example
 * export default () =>
 *   model('tiny', { input: [32, 32, 3] }, (x) => dense(flatten(globalAvgPool(convBnRelu(x, 16))), 10));
 */
export function model(name: string, spec: ModelSpec, body: (x: Value<4>) => AnyValue | readonly AnyValue[]): Graph {
  const b = new ModelBuilder(name, spec.seed ?? 1);
  const shape = [spec.batch ?? 1, ...spec.input];
  const x = b.push({ op: 'input', id: spec.inputName ?? 'x', type: f32(shape) }, 4);
  const result = body(x);
  const outputs = (Array.isArray(result) ? result : [result]) as readonly AnyValue[];
  const graph: Graph = {
    name,
    nodes: b.nodes,
    outputs: outputs.map((v) => v.id),
    weights: spec.weights ? replaceWeights(b.weights, spec.weights, `model ${name}`) : b.weights,
  };
  return verify(graph);
}

/**
 * Runs `body` with layer names prefixed by `name.` (like PyTorch module paths), so that a
 * network's repeated blocks get names such as `stage1.block2.conv1`.
 * @example
 * const y = block('stage1', x, () => add(conv2d(relu(batchNorm(x)), 16), x));
 */
export function block<T>(name: string, x: AnyValue, body: () => T): T {
  return x.builder.inScope(name, body);
}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/** 'same', 'valid', one explicit padding for all sides, or [top, bottom, left, right]. */
export type PaddingSpec = 'same' | 'valid' | number | readonly [top: number, bottom: number, left: number, right: number];

const padding = (p: PaddingSpec): Padding =>
  p === 'same' || p === 'valid'
    ? { kind: p }
    : typeof p === 'number'
      ? { kind: 'explicit', top: p, bottom: p, left: p, right: p }
      : { kind: 'explicit', top: p[0], bottom: p[1], left: p[2], right: p[3] };

const placeholder = f32([]);

/** Options of conv2d, depthwiseConv2d, convBnRelu and bnReluConv. */
export interface Conv2dOptions {
  /** Window size, one number or [height, width]. Default 3. */
  readonly kernel?: number | Pair;
  /** Default 1. */
  readonly stride?: number | Pair;
  /** Default 1. */
  readonly dilation?: number | Pair;
  /** Default 'same'. */
  readonly padding?: PaddingSpec;
  /** Channel groups; must divide the input and output channels. Default 1. */
  readonly groups?: number;
  /** Add a bias (initialised to 0). Default false: a BN usually follows. */
  readonly bias?: boolean;
  /** The layer's name; default conv1, conv2, ... within the current block. */
  readonly name?: string;
}

/**
 * 2-D convolution with `out` output channels (default 3x3, stride 1, same padding, no bias).
 * Filters are He normal initialised.
 * @example
 * const h = conv2d(x, 64, { kernel: 3, stride: 2 });
 */
export function conv2d(x: Value<4>, out: number, opts: Conv2dOptions = {}): Value<4> {
  return convNamed(x, out, opts, 'conv');
}

/** conv2d whose automatic name is `<kind><n>`. */
function convNamed(x: Value<4>, out: number, opts: Conv2dOptions, kind: string): Value<4> {
  const b = x.builder;
  const name = b.freshName(kind, opts.name);
  const kernel = pair(opts.kernel ?? 3);
  const groups = opts.groups ?? 1;
  const cin = x.shape[3];
  if (!Number.isInteger(out) || out < 1) throw new GraphError(`conv2d needs a positive channel count, got ${out}`, `%${name}`);
  if (cin % groups !== 0 || out % groups !== 0) {
    throw new GraphError(`groups=${groups} must divide both ${cin} input and ${out} output channels`, `%${name}`);
  }
  const std = Math.sqrt(2 / (kernel[0] * kernel[1] * out));
  const filter = b.addWeight(`${name}.w`, [kernel[0], kernel[1], cin / groups, out], () => std * b.rng.normal());
  const bias = opts.bias ? b.addWeight(`${name}.b`, [out], () => 0) : null;
  return b.push(
    {
      op: 'conv2d',
      id: name,
      type: f32([x.shape[0], 0, 0, out]),
      input: x.id,
      filter,
      bias,
      kernel,
      strides: pair(opts.stride ?? 1),
      dilations: pair(opts.dilation ?? 1),
      padding: padding(opts.padding ?? 'same'),
      groups,
      activation: 'none',
    },
    4,
  );
}

/**
 * Depthwise convolution: one filter per channel (groups = channels), as in MobileNet.
 * @example
 * const h = relu6(batchNorm(depthwiseConv2d(x, { stride: 2 })));
 */
export function depthwiseConv2d(x: Value<4>, opts: Omit<Conv2dOptions, 'groups'> = {}): Value<4> {
  return convNamed(x, x.shape[3], { ...opts, groups: x.shape[3] }, 'dwconv');
}

/**
 * Batch normalisation over the last axis (channels). Its gamma is what Network Slimming ranks:
 * initialised to 0.5 (beta 0, running mean 0, variance 1).
 * @example
 * const h = relu(batchNorm(conv2d(x, 32), { name: 'bn_stem' }));
 */
export function batchNorm<R extends Rank>(x: Value<R>, opts: { epsilon?: number; name?: string } = {}): Value<R> {
  const b = x.builder;
  const name = b.freshName('bn', opts.name);
  const c = x.shape[x.shape.length - 1];
  b.addWeight(`${name}.gamma`, [c], () => 0.5);
  b.addWeight(`${name}.beta`, [c], () => 0);
  b.addWeight(`${name}.mean`, [c], () => 0);
  b.addWeight(`${name}.var`, [c], () => 1);
  return b.push({ op: 'batch_norm', id: name, type: placeholder, input: x.id, params: name, epsilon: opts.epsilon ?? 1e-5 }, x.rank);
}

/**
 * An elementwise op (see src/ir/elementwise.ts) applied to x by its IR name.
 * @example
 * const h = elementwise('relu', batchNorm(conv2d(x, 16)));
 */
export function elementwise<R extends Rank>(op: ElementwiseOp, x: Value<R>, name?: string): Value<R> {
  // A name ending in a digit would run into the layer counter (relu61): relu6_1.
  const kind = /\d$/.test(op) ? `${op}_` : op;
  return x.builder.push({ op, id: x.builder.freshName(kind, name), type: placeholder, input: x.id }, x.rank);
}

/**
 * max(x, 0).
 * @example
 * const h = relu(batchNorm(conv2d(x, 16)));
 */
export function relu<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('relu', x, name);
}

/**
 * min(max(x, 0), 6), as in MobileNet.
 * @example
 * const h = relu6(batchNorm(conv2d(x, 16)));
 */
export function relu6<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('relu6', x, name);
}

/**
 * 1 / (1 + exp(-x)), as in squeeze-excite gates.
 * @example
 * const g = sigmoid(conv2d(x, 16, { kernel: 1 }));
 */
export function sigmoid<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('sigmoid', x, name);
}

/**
 * x * sigmoid(x) (PyTorch's SiLU, EfficientNet's swish).
 * @example
 * const h = silu(batchNorm(conv2d(x, 16)));
 */
export function silu<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('silu', x, name);
}

/**
 * relu6(x + 3) / 6 (PyTorch's Hardsigmoid, MobileNetV3's gate).
 * @example
 * const g = hardSigmoid(conv2d(x, 16, { kernel: 1 }));
 */
export function hardSigmoid<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('hard_sigmoid', x, name);
}

/**
 * x * relu6(x + 3) / 6 (PyTorch's Hardswish, MobileNetV3).
 * @example
 * const h = hardSwish(batchNorm(conv2d(x, 16)));
 */
export function hardSwish<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('hard_swish', x, name);
}

/** Options of maxPool and avgPool. */
export interface PoolOptions {
  /** Window size; default 2. */
  readonly kernel?: number | Pair;
  /** Default: the window size. */
  readonly stride?: number | Pair;
  /** Default 'valid'. */
  readonly padding?: PaddingSpec;
  /** The layer's name; default maxpool1, avgpool1, ... */
  readonly name?: string;
}

/** A pooling window from its options: 2x2, stride the window size, no padding by default. */
function poolWindow(opts: PoolOptions): { kernel: Pair; strides: Pair; padding: Padding } {
  const kernel = pair(opts.kernel ?? 2);
  return { kernel, strides: pair(opts.stride ?? kernel), padding: padding(opts.padding ?? 'valid') };
}

/**
 * Max pooling; default 2x2 windows, stride 2, no padding.
 * @example
 * const h = maxPool(convBnRelu(x, 64), { kernel: 3, stride: 2, padding: 1 });
 */
export function maxPool(x: Value<4>, opts: PoolOptions = {}): Value<4> {
  return x.builder.push(
    { op: 'max_pool', id: x.builder.freshName('maxpool', opts.name), type: placeholder, input: x.id, ...poolWindow(opts) },
    4,
  );
}

/**
 * Average pooling; default 2x2 windows, stride 2, no padding. `countIncludePad` counts padded
 * zeros in the average (PyTorch's count_include_pad); default false.
 * @example
 * const h = avgPool(x, { kernel: 3, stride: 1, padding: 1, countIncludePad: true });
 */
export function avgPool(x: Value<4>, opts: PoolOptions & { countIncludePad?: boolean } = {}): Value<4> {
  const id = x.builder.freshName('avgpool', opts.name);
  return x.builder.push(
    { op: 'avg_pool', id, type: placeholder, input: x.id, ...poolWindow(opts), countIncludePad: opts.countIncludePad ?? false },
    4,
  );
}

/**
 * The mean over height and width: [N, H, W, C] -> [N, 1, 1, C].
 * @example
 * const logits = dense(flatten(globalAvgPool(h)), 10);
 */
export function globalAvgPool(x: Value<4>, name?: string): Value<4> {
  return x.builder.push({ op: 'global_avg_pool', id: x.builder.freshName('gap', name), type: placeholder, input: x.id }, 4);
}

/**
 * Elementwise sum (a residual connection); all operands must have the same shape. Pruning keeps
 * one channel set for all operands and the result.
 * @example
 * const y = add(conv2d(relu(batchNorm(conv2d(x, 16))), 16), x);
 */
export function add<R extends Rank>(a: Value<R>, b: Value<R>, ...rest: Value<R>[]): Value<R> {
  const all = [a, b, ...rest];
  return a.builder.push({ op: 'add', id: a.builder.freshName('add'), type: placeholder, inputs: all.map((v) => v.id) }, a.rank);
}

/**
 * Elementwise product: `gate` has x's shape, or is [N, 1, 1, C] (one factor per channel, as a
 * squeeze-excite block computes it with globalAvgPool and 1x1 convs).
 * @example
 * const y = mul(x, sigmoid(gate));
 */
export function mul<R extends Rank>(x: Value<R>, gate: Value<R>, name?: string): Value<R> {
  return x.builder.push({ op: 'mul', id: x.builder.freshName('mul', name), type: placeholder, inputs: [x.id, gate.id] }, x.rank);
}

/**
 * A squeeze-excite block (EfficientNet, MobileNetV3): x times a per-channel gate computed from
 * its global average: 1x1 conv to `squeeze` channels, `activation`, 1x1 conv back, `gate`.
 * @example
 * const y = squeezeExcite(x, 4, { activation: 'silu', gate: 'sigmoid' });
 */
export function squeezeExcite(
  x: Value<4>,
  squeeze: number,
  opts: { activation?: 'relu' | 'silu'; gate?: 'sigmoid' | 'hard_sigmoid'; name?: string } = {},
): Value<4> {
  const channels = x.shape[3];
  const pooled = globalAvgPool(x);
  const reduced = elementwise(opts.activation ?? 'silu', conv2d(pooled, squeeze, { kernel: 1, bias: true }));
  const gate = elementwise(opts.gate ?? 'sigmoid', conv2d(reduced, channels, { kernel: 1, bias: true }));
  return mul(x, gate, opts.name);
}

/**
 * Concatenation along channels (DenseNet).
 * @example
 * const y = concat(x, bnReluConv(x, 12));
 */
export function concat(first: Value<4>, ...rest: Value<4>[]): Value<4> {
  const all = [first, ...rest];
  return first.builder.push({ op: 'concat', id: first.builder.freshName('concat'), type: placeholder, inputs: all.map((v) => v.id) }, 4);
}

/**
 * [N, H, W, C] -> [N, H*W*C] (NHWC order), before dense.
 * @example
 * const logits = dense(flatten(maxPool(h)), 10);
 */
export function flatten(x: Value<4>, name?: string): Value<2> {
  return x.builder.push({ op: 'flatten', id: x.builder.freshName('flatten', name), type: placeholder, input: x.id }, 2);
}

/** Options of dense. */
export interface DenseOptions {
  /** Add a bias (initialised to 0). Default true. */
  readonly bias?: boolean;
  /** The layer's name; default fc1, fc2, ... */
  readonly name?: string;
  /** A fused activation: 'none' (default), 'relu' or 'relu6'. */
  readonly activation?: Activation;
}

/**
 * A fully connected layer with `out` outputs; weights normal(0, 0.01).
 * @example
 * const logits = dense(flatten(globalAvgPool(h)), 10, { name: 'classifier' });
 */
export function dense(x: Value<2>, out: number, opts: DenseOptions = {}): Value<2> {
  const b = x.builder;
  const name = b.freshName('fc', opts.name);
  const weight = b.addWeight(`${name}.w`, [x.shape[1], out], () => 0.01 * b.rng.normal());
  const bias = opts.bias === false ? null : b.addWeight(`${name}.b`, [out], () => 0);
  return b.push(
    { op: 'dense', id: name, type: f32([x.shape[0], out]), input: x.id, weight, bias, activation: opts.activation ?? 'none' },
    2,
  );
}

/**
 * Channel selection: output channel i is input channel indices[i] (the official Network
 * Slimming code's channel_selection layer).
 * @example
 * const kept = gather(relu(batchNorm(x)), [0, 2, 3]);
 */
export function gather<R extends Rank>(x: Value<R>, indices: readonly number[], name?: string): Value<R> {
  return x.builder.push({ op: 'gather', id: x.builder.freshName('select', name), type: placeholder, input: x.id, indices }, x.rank);
}

/**
 * Softmax over the last axis.
 * @example
 * const probabilities = softmax(dense(flatten(h), 10));
 */
export function softmax<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return x.builder.push({ op: 'softmax', id: x.builder.freshName('softmax', name), type: placeholder, input: x.id }, x.rank);
}

/**
 * conv2d -> batchNorm -> relu, the unit of VGG-style networks.
 * @example
 * const h = maxPool(convBnRelu(convBnRelu(x, 64), 64));
 */
export function convBnRelu(x: Value<4>, out: number, opts: Conv2dOptions = {}): Value<4> {
  return relu(batchNorm(conv2d(x, out, opts)));
}

/**
 * batchNorm -> relu -> conv2d, the unit of pre-activation ResNets and DenseNets.
 * @example
 * const y = add(bnReluConv(bnReluConv(x, 16), 16), x);
 */
export function bnReluConv(x: Value<4>, out: number, opts: Conv2dOptions = {}): Value<4> {
  return conv2d(relu(batchNorm(x)), out, opts);
}
