// The forward pass as straight-line JS: one statement per node of a lowered graph, each value
// freed right after its last reader (liveness), calling tfjs fused kernels where they exist.
//
//   function forward(W, K, [v0]) {
//     const v1 = conv(v0, W[0], W[1], 1, 'same', 1, 'relu'); free(v0); // %conv1
//     ...
//     return [v23];
//   }
//
// W holds the weight tensors in order of first use, K the constants (channel indices of gathers;
// the zero mean and unit variance that make the batch-norm kernel a multiply-add).
import { match } from 'ts-pattern';
import { UnsupportedError } from '../ir/errors.ts';
import { channelsOf, graphInputs, isDepthwise, isElementwise } from '../ir/node.ts';
import { padAmounts } from '../ir/shapes.ts';
import { formatValue } from '../ir/text/syntax.ts';
import type { Activation, Conv2dNode, Graph, Node, Padding, Pair, TensorType, ValueId, WeightName } from '../ir/types.ts';
import { commentText } from './escape.ts';
import { liveness } from './liveness.ts';
import { helperClosure, type HelperName } from './helpers.ts';
import { buildPlan } from './plan/build_plan.ts';
import type { PlanSpec } from './plan/plan_types.ts';

/** A weight as the module uploads it: the name in the weights file and the tfjs shape. */
export interface UploadedWeight {
  readonly name: WeightName;
  /** Shape of the tensor tfjs takes, when it differs from the IR's (depthwise filters). */
  readonly uploadShape: readonly number[] | null;
}

/**
 * A constant the module makes at load: ['float32', values] is a tensor; ['int32', values] a plain
 * Int32Array (channel indices, which the gather kernel takes as an attribute). Values are listed
 * or, for an ascending channel selection, given as a base64 bit mask over the input channels
 * (bit i of byte i >> 3 set: channel 8 * (i >> 3) + (i & 7) kept), far shorter for wide layers.
 */
export type Constant = readonly ['float32' | 'int32', readonly number[] | string];

/** Ascending indices as a base64 bit mask when that is shorter than the list. */
export function compactIndices(indices: readonly number[]): readonly number[] | string {
  const ascending = indices.every((c, i) => i === 0 || c > indices[i - 1]);
  if (!ascending || indices.length === 0) return indices;
  const bytes = new Uint8Array((indices[indices.length - 1] >> 3) + 1);
  for (const c of indices) bytes[c >> 3] |= 1 << (c & 7);
  const mask = btoa(String.fromCharCode(...bytes));
  return mask.length < JSON.stringify(indices).length ? mask : indices;
}

export interface ForwardCode {
  /** The `function forward(...) { ... }` declaration. */
  readonly source: string;
  /** Helper names the body calls (with dependencies), definitions before uses. */
  readonly helpers: readonly HelperName[];
  readonly weights: readonly UploadedWeight[];
  readonly constants: readonly Constant[];
  /** The static execution plan (its weights index `weights` too). */
  readonly plan: PlanSpec;
  /** The first op the plan does not cover, if any: the module then runs the engine path. */
  readonly planUnsupported: string | null;
}

/** How a sliding window's padding is passed to tfjs: by name when tfjs's rule gives the same. */
type WindowPadding =
  { readonly kind: 'valid' } | { readonly kind: 'same' } | { readonly kind: 'explicit'; readonly h: Pair; readonly w: Pair };

function windowPadding(input: TensorType, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding): WindowPadding {
  const [, height, width] = input.shape;
  const h = padAmounts(height, kernel[0], strides[0], dilations[0], padding, 'h');
  const w = padAmounts(width, kernel[1], strides[1], dilations[1], padding, 'w');
  if (h[0] === 0 && h[1] === 0 && w[0] === 0 && w[1] === 0) return { kind: 'valid' };
  const sameH = padAmounts(height, kernel[0], strides[0], dilations[0], { kind: 'same' }, 'h');
  const sameW = padAmounts(width, kernel[1], strides[1], dilations[1], { kind: 'same' }, 'w');
  if (samePair(h, sameH) && samePair(w, sameW)) return { kind: 'same' };
  return { kind: 'explicit', h, w };
}

const samePair = (a: Pair, b: Pair) => a[0] === b[0] && a[1] === b[1];
const pair = (p: Pair) => (p[0] === p[1] ? String(p[0]) : `[${p[0]}, ${p[1]}]`);
const amounts = (p: { h: Pair; w: Pair }) => `[[${p.h.join(', ')}], [${p.w.join(', ')}]]`;
const nhwcPadding = (p: { h: Pair; w: Pair }) => `[[0, 0], [${p.h.join(', ')}], [${p.w.join(', ')}], [0, 0]]`;
const tfActivation = (a: Activation) => `'${a === 'none' ? 'linear' : a}'`;

class Emitter {
  readonly helpers = new Set<HelperName>();
  readonly weights: UploadedWeight[] = [];
  readonly constants: Constant[] = [];
  private readonly weightIndex = new Map<string, number>();
  private readonly constantIndex = new Map<string, number>();
  private readonly types: ReadonlyMap<ValueId, TensorType>;
  private readonly names: ReadonlyMap<ValueId, string>;

  constructor(readonly graph: Graph) {
    this.types = new Map(graph.nodes.map((n) => [n.id, n.type]));
    this.names = new Map(graph.nodes.map((n, i) => [n.id, `v${i}`]));
  }

  v(id: ValueId): string {
    return this.names.get(id) as string;
  }

  typeOf(id: ValueId): TensorType {
    return this.types.get(id) as TensorType;
  }

  call(helper: HelperName, args: string): string {
    this.helpers.add(helper);
    return `${helper}(${args})`;
  }

  /** `W[i]` for a weight, uploaded with `uploadShape` if given. */
  w(name: WeightName | null, uploadShape: readonly number[] | null = null): string {
    return name === null ? 'null' : `W[${this.weight(name, uploadShape)}]`;
  }

  /** The index i of W[i] for a weight, uploaded with `uploadShape` if given. */
  weight(name: WeightName, uploadShape: readonly number[] | null = null): number {
    const key = `${name}|${uploadShape?.join(',') ?? ''}`;
    let i = this.weightIndex.get(key);
    if (i === undefined) {
      i = this.weights.length;
      this.weights.push({ name, uploadShape });
      this.weightIndex.set(key, i);
    }
    return i;
  }

  /** `K[i]` for a constant. */
  k(constant: Constant): string {
    return `K[${this.constant(constant)}]`;
  }

  /** The index i of K[i] for a constant. */
  constant(constant: Constant): number {
    const key = JSON.stringify(constant);
    let i = this.constantIndex.get(key);
    if (i === undefined) {
      i = this.constants.length;
      this.constants.push(constant);
      this.constantIndex.set(key, i);
    }
    return i;
  }
}

function emitConv(n: Conv2dNode, e: Emitter): string {
  const x = e.typeOf(n.input);
  const cin = channelsOf(x.shape);
  const cout = channelsOf(n.type.shape);
  const [kh, kw] = n.kernel;
  const depthwise = isDepthwise(n, cin);
  // tfjs refuses strides and dilations both above 1: run at stride 1 with the padding the strided
  // window has, then keep every stride-th row and column (the same windows).
  const subsample = n.strides.some((s) => s > 1) && n.dilations.some((d) => d > 1);
  const strides: Pair = subsample ? [1, 1] : n.strides;
  const pads = windowPadding(x, n.kernel, n.strides, n.dilations, n.padding);
  const explicit = pads.kind === 'explicit' || (subsample && pads.kind === 'same');
  const amountsOf = () => {
    const [, height, width] = x.shape;
    return {
      h: padAmounts(height, kh, n.strides[0], n.dilations[0], n.padding, 'h'),
      w: padAmounts(width, kw, n.strides[1], n.dilations[1], n.padding, 'w'),
    };
  };
  const padArg = explicit ? null : `'${pads.kind}'`;
  const tail = `${pair(strides)}, PAD, ${pair(n.dilations)}, ${tfActivation(n.activation)}`;
  let call: string;
  if (n.groups === 1) {
    call = e.call('conv', `${e.v(n.input)}, ${e.w(n.filter)}, ${e.w(n.bias)}, ${tail.replace('PAD', padArg ?? nhwcPadding(amountsOf()))}`);
  } else if (depthwise) {
    // HWIO [kh, kw, 1, cin * m] has the same element order as tfjs's depthwise [kh, kw, cin, m].
    // (The kernel, called directly, takes explicit padding, which tf.fused.depthwiseConv2d does not.)
    const filter = e.w(n.filter, [kh, kw, cin, cout / cin]);
    call = e.call('depthwise', `${e.v(n.input)}, ${filter}, ${e.w(n.bias)}, ${tail.replace('PAD', padArg ?? nhwcPadding(amountsOf()))}`);
  } else {
    call = e.call(
      'groupConv',
      `${e.v(n.input)}, ${e.w(n.filter)}, ${e.w(n.bias)}, ${n.groups}, ${tail.replace('PAD', padArg ?? nhwcPadding(amountsOf()))}`,
    );
  }
  return subsample ? e.call('everyNth', `${call}, ${n.strides[0]}, ${n.strides[1]}`) : call;
}

function emitNode(node: Node, e: Emitter): string {
  // An elementwise op calls the helper of its name (helpers.ts has one for each).
  if (isElementwise(node)) return e.call(node.op, e.v(node.input));
  return (
    match(node)
      .with({ op: 'input' }, (n): string => {
        throw new UnsupportedError('input: bound by the forward signature, not emitted as a statement', `%${n.id}`);
      })
      .with({ op: 'conv2d' }, (n) => emitConv(n, e))
      .with({ op: 'batch_norm' }, (n) => {
        const p = (suffix: string) => e.w(`${n.params}.${suffix}`);
        return e.call('batchNorm', `${e.v(n.input)}, ${p('mean')}, ${p('var')}, ${p('beta')}, ${p('gamma')}, ${n.epsilon}`);
      })
      // x * scale + shift as one batch-norm kernel: t + (x - 0) * s / sqrt(1 + 0) rounds as x*s + t.
      .with({ op: 'scale_shift' }, (n) =>
        e.call('batchNorm', `${e.v(n.input)}, ${e.k(['float32', [0]])}, ${e.k(['float32', [1]])}, ${e.w(n.shift)}, ${e.w(n.scale)}, 0`),
      )
      .with({ op: 'max_pool' }, (n) => {
        const pads = windowPadding(e.typeOf(n.input), n.kernel, n.strides, [1, 1], n.padding);
        const padArg = pads.kind === 'explicit' ? nhwcPadding(pads) : `'${pads.kind}'`;
        return e.call('maxPool', `${e.v(n.input)}, ${pair(n.kernel)}, ${pair(n.strides)}, ${padArg}`);
      })
      .with({ op: 'avg_pool' }, (n) => {
        const x = e.typeOf(n.input);
        const [, height, width] = x.shape;
        const h = padAmounts(height, n.kernel[0], n.strides[0], 1, n.padding, 'h');
        const w = padAmounts(width, n.kernel[1], n.strides[1], 1, n.padding, 'w');
        const args = `${e.v(n.input)}, ${pair(n.kernel)}, ${pair(n.strides)}`;
        if (h[0] + h[1] + w[0] + w[1] === 0) return e.call('avgPool', `${args}, 'valid'`);
        return e.call(n.countIncludePad ? 'avgPoolPadded' : 'avgPoolExact', `${args}, ${amounts({ h, w })}`);
      })
      .with({ op: 'global_avg_pool' }, (n) => e.call('mean', `${e.v(n.input)}, [1, 2], true`))
      .with({ op: 'add' }, (n) =>
        n.inputs.length === 2
          ? e.call('add', n.inputs.map((v) => e.v(v)).join(', '))
          : e.call('addN', `[${n.inputs.map((v) => e.v(v)).join(', ')}]`),
      )
      .with({ op: 'mul' }, (n) => e.call('mul', n.inputs.map((v) => e.v(v)).join(', ')))
      .with({ op: 'concat' }, (n) => e.call('concat', `[${n.inputs.map((v) => e.v(v)).join(', ')}]`))
      .with({ op: 'flatten' }, (n) => e.call('flatten', e.v(n.input)))
      .with({ op: 'dense' }, (n) => e.call('dense', `${e.v(n.input)}, ${e.w(n.weight)}, ${e.w(n.bias)}, ${tfActivation(n.activation)}`))
      .with({ op: 'gather' }, (n) => e.call('gather', `${e.v(n.input)}, ${e.k(['int32', compactIndices(n.indices)])}`))
      .with({ op: 'softmax' }, (n) => e.call('softmax', `${e.v(n.input)}, ${n.type.shape.length - 1}`))
      .exhaustive()
  );
}

export interface ForwardOptions {
  /** End each statement with a `// %id` comment naming the IR value (default true). */
  readonly annotate?: boolean;
}

/** The forward function of a lowered, verified graph. */
export function emitForward(graph: Graph, opts: ForwardOptions = {}): ForwardCode {
  const e = new Emitter(graph);
  const live = liveness(graph);
  const inputs = graphInputs(graph).map((n) => e.v(n.id));
  const lines: string[] = [];
  const freeAfter = (i: number) => {
    const freed = live.freedAfter[i];
    return freed.length === 0 ? '' : ` ${e.call('free', freed.map((v) => e.v(v)).join(', '))};`;
  };
  graph.nodes.forEach((node, i) => {
    const comment = opts.annotate === false ? '' : ` // ${commentText(formatValue(node.id))}`;
    if (node.op === 'input') {
      // An input no node reads is freed at once (the module always passes tensors it owns).
      const freed = freeAfter(i);
      if (freed !== '') lines.push(`  ${freed.trim()}${comment}`);
      return;
    }
    lines.push(`  const ${e.v(node.id)} = ${emitNode(node, e)};${freeAfter(i)}${comment}`);
  });
  lines.push(`  return [${graph.outputs.map((v) => e.v(v)).join(', ')}];`);
  const source = [`function forward(W, K, [${inputs.join(', ')}]) {`, ...lines, '}'].join('\n');
  const { plan, unsupported } = buildPlan(
    graph,
    (name, uploadShape) => e.weight(name, uploadShape ?? null),
    (indices) => e.constant(['int32', compactIndices(indices)]),
  );
  return { source, helpers: helperClosure(e.helpers), weights: e.weights, constants: e.constants, plan, planUnsupported: unsupported };
}
