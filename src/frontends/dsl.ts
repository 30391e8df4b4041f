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

export type Rank = 2 | 4;

export interface Value<R extends Rank = Rank> {
  readonly id: ValueId;
  readonly shape: readonly number[];
  readonly rank: R;
  /** The graph under construction this value belongs to. */
  readonly builder: ModelBuilder;
}

type DistributeValue<R> = R extends Rank ? Value<R> : never;
export type AnyValue = DistributeValue<Rank>;

/** The graph a model function builds: layer names, scopes and seeded initial weights. */
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

/** Builds a verified graph from a function of the input value. */
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

/** Runs `body` with layer names prefixed by `name.` (like PyTorch module paths). */
export function block<T>(name: string, x: AnyValue, body: () => T): T {
  return x.builder.inScope(name, body);
}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

export type PaddingSpec = 'same' | 'valid' | number | readonly [top: number, bottom: number, left: number, right: number];

const padding = (p: PaddingSpec): Padding =>
  p === 'same' || p === 'valid'
    ? { kind: p }
    : typeof p === 'number'
      ? { kind: 'explicit', top: p, bottom: p, left: p, right: p }
      : { kind: 'explicit', top: p[0], bottom: p[1], left: p[2], right: p[3] };

const placeholder = f32([]);

export interface Conv2dOptions {
  readonly kernel?: number | Pair;
  readonly stride?: number | Pair;
  readonly dilation?: number | Pair;
  readonly padding?: PaddingSpec;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly name?: string;
}

/** Conv2d with `out` channels (default 3x3, stride 1, same padding, no bias). */
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

/** Depthwise conv: one filter per channel (groups = channels). */
export function depthwiseConv2d(x: Value<4>, opts: Omit<Conv2dOptions, 'groups'> = {}): Value<4> {
  return convNamed(x, x.shape[3], { ...opts, groups: x.shape[3] }, 'dwconv');
}

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

/** An elementwise op (see src/ir/elementwise.ts) applied to x, e.g. `elementwise('relu', x)`. */
export function elementwise<R extends Rank>(op: ElementwiseOp, x: Value<R>, name?: string): Value<R> {
  // A name ending in a digit would run into the layer counter (relu61): relu6_1.
  const kind = /\d$/.test(op) ? `${op}_` : op;
  return x.builder.push({ op, id: x.builder.freshName(kind, name), type: placeholder, input: x.id }, x.rank);
}

export function relu<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('relu', x, name);
}

export function relu6<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return elementwise('relu6', x, name);
}

export interface PoolOptions {
  /** Window size; default 2. */
  readonly kernel?: number | Pair;
  /** Default: the window size. */
  readonly stride?: number | Pair;
  /** Default 'valid'. */
  readonly padding?: PaddingSpec;
  readonly name?: string;
}

/** A pooling window from its options: 2x2, stride the window size, no padding by default. */
function poolWindow(opts: PoolOptions): { kernel: Pair; strides: Pair; padding: Padding } {
  const kernel = pair(opts.kernel ?? 2);
  return { kernel, strides: pair(opts.stride ?? kernel), padding: padding(opts.padding ?? 'valid') };
}

export function maxPool(x: Value<4>, opts: PoolOptions = {}): Value<4> {
  return x.builder.push({ op: 'max_pool', id: x.builder.freshName('maxpool', opts.name), type: placeholder, input: x.id, ...poolWindow(opts) }, 4);
}

export function avgPool(x: Value<4>, opts: PoolOptions & { countIncludePad?: boolean } = {}): Value<4> {
  const id = x.builder.freshName('avgpool', opts.name);
  return x.builder.push({ op: 'avg_pool', id, type: placeholder, input: x.id, ...poolWindow(opts), countIncludePad: opts.countIncludePad ?? false }, 4);
}

export function globalAvgPool(x: Value<4>, name?: string): Value<4> {
  return x.builder.push({ op: 'global_avg_pool', id: x.builder.freshName('gap', name), type: placeholder, input: x.id }, 4);
}

/** Elementwise sum (a residual connection); all operands must have the same shape. */
export function add<R extends Rank>(a: Value<R>, b: Value<R>, ...rest: Value<R>[]): Value<R> {
  const all = [a, b, ...rest];
  return a.builder.push({ op: 'add', id: a.builder.freshName('add'), type: placeholder, inputs: all.map((v) => v.id) }, a.rank);
}

/** Concatenation along channels (DenseNet). */
export function concat(first: Value<4>, ...rest: Value<4>[]): Value<4> {
  const all = [first, ...rest];
  return first.builder.push({ op: 'concat', id: first.builder.freshName('concat'), type: placeholder, inputs: all.map((v) => v.id) }, 4);
}

/** NHWC -> [N, H*W*C]. */
export function flatten(x: Value<4>, name?: string): Value<2> {
  return x.builder.push({ op: 'flatten', id: x.builder.freshName('flatten', name), type: placeholder, input: x.id }, 2);
}

export interface DenseOptions {
  readonly bias?: boolean;
  readonly name?: string;
  readonly activation?: Activation;
}

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

/** Channel selection: output channel i is input channel indices[i]. */
export function gather<R extends Rank>(x: Value<R>, indices: readonly number[], name?: string): Value<R> {
  return x.builder.push({ op: 'gather', id: x.builder.freshName('select', name), type: placeholder, input: x.id, indices }, x.rank);
}

export function softmax<R extends Rank>(x: Value<R>, name?: string): Value<R> {
  return x.builder.push({ op: 'softmax', id: x.builder.freshName('softmax', name), type: placeholder, input: x.id }, x.rank);
}

/** conv -> BN -> ReLU, the unit of VGG-style networks. */
export function convBnRelu(x: Value<4>, out: number, opts: Conv2dOptions = {}): Value<4> {
  return relu(batchNorm(conv2d(x, out, opts)));
}

/** BN -> ReLU -> conv, the unit of pre-activation ResNets and DenseNets. */
export function bnReluConv(x: Value<4>, out: number, opts: Conv2dOptions = {}): Value<4> {
  return conv2d(relu(batchNorm(x)), out, opts);
}
