// How channels move through each op: one ChannelRule per op, in the style of Torch-Pruning's
// per-op pruners. The channel dataflow analysis (channel_flow.ts) and the pruning rewrite
// (prune_channels.ts) are drivers over this table; the table is keyed by the op union, so a new
// op does not compile until it says how it prunes.
//
// A rule answers, for one node:
// - constants (forward): per output channel, its value where it is input-independent and
//   spatially constant, else null (always a safe answer);
// - independence (forward): which output channels do not depend on the graph's inputs at all;
// - kept (backward): the channels the node computes, given those its consumers need (default:
//   exactly those);
// - reads (backward): per operand, the channels it reads to compute its kept channels;
// - prune: the compact node computing the kept channels, or an existing compact value.
import { bnWeightNames } from '../ir/node.ts';
import type { ElementwiseOp } from '../ir/elementwise.ts';
import {
  channelsOf,
  type Activation,
  type Conv2dNode,
  type DenseNode,
  type Node,
  type NodeOf,
  type Op,
  type TensorType,
  type ValueId,
  type Weights,
} from '../ir/types.ts';
import { constantAbsorber, convKind, groupOf, linearInputOffset, seesNoPadding, type LinearTable } from './channel_linear.ts';
import { sliceInOut, sliceLastAxis, type CompactGraphBuilder } from './compact_builder.ts';

/** Per channel: its constant value, or null where it varies. */
export type ChannelConstants = readonly (number | null)[];

export interface ForwardContext {
  readonly weights: Weights;
  readonly typeOf: (v: ValueId) => TensorType;
  readonly constantsOf: (v: ValueId) => ChannelConstants;
  readonly independentOf: (v: ValueId) => Uint8Array;
  /** The linear table of a conv or dense node (channel_linear.ts). */
  readonly tableOf: (id: ValueId) => LinearTable;
}

export interface BackwardContext extends ForwardContext {
  /** Channels of `v` some consumer already needs (those later in graph order). */
  readonly needOf: (v: ValueId) => Uint8Array;
  /** Records, for an add, the operand positions that are constant wherever it keeps channels. */
  readonly constantOperands: (id: ValueId, operands: ReadonlySet<number>) => void;
}

export interface PruneContext {
  readonly builder: CompactGraphBuilder;
  /** The masked graph's weights. */
  readonly weights: Weights;
  readonly typeOf: (v: ValueId) => TensorType;
  readonly constantsOf: (v: ValueId) => ChannelConstants;
  readonly tableOf: (id: ValueId) => LinearTable;
  /** Operand positions of an add that are constant wherever it keeps channels. */
  readonly constantOperands: (id: ValueId) => ReadonlySet<number>;
  /** The node's kept channels, ascending. */
  readonly kept: readonly number[];
  /** Per operand, the operand channels the node reads, ascending. */
  readonly reads: readonly (readonly number[])[];
  /** The node's compact output type. */
  readonly type: TensorType;
}

/** The rule for nodes of type N (written over the node type so that one rule can serve several ops). */
interface NodeChannelRule<N extends Node> {
  readonly constants: (n: N, c: ForwardContext) => ChannelConstants;
  readonly independence: (n: N, c: ForwardContext) => Uint8Array;
  readonly kept?: (n: N, needed: Uint8Array, c: ForwardContext) => Uint8Array;
  readonly reads: (n: N, kept: Uint8Array, c: BackwardContext) => Uint8Array[];
  readonly prune: (n: N, p: PruneContext) => ValueId | Node;
}

export type ChannelRule<O extends Op> = NodeChannelRule<NodeOf<O>>;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const varying = (n: Node): ChannelConstants => new Array<number | null>(channelsOf(n.type)).fill(null);
const sameChannels = (_: Node, kept: Uint8Array): Uint8Array[] => [Uint8Array.from(kept)];
const sameIndependence = (n: Node & { input: ValueId }, c: ForwardContext) => Uint8Array.from(c.independentOf(n.input));
const channelwise = <N extends Node & { input: ValueId }>(n: N, p: PruneContext): N => ({
  ...n,
  type: p.type,
  input: p.builder.select(n.input, p.kept),
});

const ACTIVATION: Readonly<Record<Activation, (v: number) => number>> = {
  none: (v) => v,
  relu: (v) => Math.max(0, v),
  relu6: (v) => Math.min(6, Math.max(0, v)),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

const hardSigmoid = (v: number) => Math.min(6, Math.max(0, v + 3)) / 6;

/** The rule of an op applied to each element on its own: `f` maps a constant channel. */
function elementwise(f: (k: number) => number): ChannelRule<ElementwiseOp> {
  return {
    constants: (n, c) => c.constantsOf(n.input).map((k) => (k === null ? null : f(k))),
    independence: sameIndependence,
    reads: sameChannels,
    prune: channelwise,
  };
}

/** Per-channel ops that keep a constant channel constant (pooling over a constant window). */
const passConstants = (): ChannelRule<'max_pool' | 'global_avg_pool'> => ({
  constants: (n, c) => c.constantsOf(n.input),
  independence: sameIndependence,
  reads: sameChannels,
  prune: channelwise,
});

// Conv and dense layers: output o is sum_i w[i, o] x_i + b_o over the inputs of its group.

function linearConstants(n: Conv2dNode | DenseNode, c: ForwardContext): ChannelConstants {
  const inputType = c.typeOf(n.input);
  const x = c.constantsOf(n.input);
  const out = channelsOf(n.type);
  const table = c.tableOf(n.id);
  const bias = n.bias === null ? null : c.weights[n.bias].data;
  const kind = n.op === 'conv2d' ? convKind(n, inputType) : 'full';
  const cin = channelsOf(inputType);
  const activation = ACTIVATION[n.activation];
  const absorbs = constantAbsorber(n, inputType);
  return range(out).map((o) => {
    const first = n.op === 'conv2d' && kind !== 'full' ? groupOf(n, cin, o).firstInput : 0;
    let value = bias ? bias[o] : 0;
    for (let i = 0; i < table.inputs; i++) {
      const k = x[first + i];
      if (!table.nonzero[i * out + o]) continue;
      if (!absorbs(k)) return null;
      value += k * table.sum[i * out + o];
    }
    return activation(value);
  });
}

function linearIndependence(n: Conv2dNode | DenseNode, c: ForwardContext): Uint8Array {
  const x = c.independentOf(n.input);
  const out = channelsOf(n.type);
  const table = c.tableOf(n.id);
  const kind = n.op === 'conv2d' ? convKind(n, c.typeOf(n.input)) : 'full';
  return Uint8Array.from({ length: out }, (_, o) => {
    const first = n.op === 'conv2d' && kind !== 'full' ? groupOf(n, x.length, o).firstInput : 0;
    for (let i = 0; i < table.inputs; i++) if (table.nonzero[i * out + o] && !x[first + i]) return 0;
    return 1;
  });
}

function linearReads(n: Conv2dNode | DenseNode, offset: number, keptFlags: Uint8Array, c: BackwardContext): Uint8Array[] {
  const x = c.typeOf(n.input);
  const flags = new Uint8Array(channelsOf(x));
  const table = c.tableOf(n.id);
  const k = c.constantsOf(n.input);
  const absorbs = constantAbsorber(n, x);
  for (let o = 0; o < keptFlags.length; o++) {
    if (!keptFlags[o]) continue;
    for (let i = 0; i < table.inputs; i++) {
      if (table.nonzero[i * table.outputs + o] && !absorbs(k[offset + i])) flags[offset + i] = 1;
    }
  }
  // Every input folded into the bias, yet the outputs are needed: read one channel with zero
  // weights, so that the layer still has an input to give its constant outputs their shape.
  // Prefer a channel other consumers need anyway.
  if (keptFlags.some((f) => f === 1) && flags.every((f) => f === 0)) {
    const alreadyNeeded = c
      .needOf(n.input)
      .subarray(offset, offset + table.inputs)
      .indexOf(1);
    flags[offset + Math.max(alreadyNeeded, 0)] = 1;
  }
  return [flags];
}

/** A conv or dense layer as one linear map over inputs offset.. (see linearInputOffset). */
function pruneLinear(n: Conv2dNode | DenseNode, offset: number, rest: Partial<Conv2dNode> | Partial<DenseNode>, p: PruneContext): Node {
  const { builder: b, kept, weights: W } = p;
  const inputType = p.typeOf(n.input);
  const k = p.constantsOf(n.input);
  const absorbs = constantAbsorber(n, inputType);
  const folded = (local: number) => absorbs(k[offset + local] ?? null);
  const read = p.reads[0];
  const table = p.tableOf(n.id);
  const weightName = n.op === 'conv2d' ? n.filter : n.weight;
  const newWeight = b.weight(
    weightName,
    sliceInOut(
      W[weightName],
      read.map((i) => i - offset),
      kept,
      folded,
    ),
  );
  const bias = Float64Array.from(kept, (o) => (n.bias ? W[n.bias].data[o] : 0));
  for (let i = 0; i < table.inputs; i++) {
    if (!folded(i)) continue;
    const ki = k[offset + i] as number;
    if (ki !== 0) kept.forEach((o, j) => (bias[j] += ki * table.sum[i * table.outputs + o]));
  }
  const needsBias = n.bias !== null || bias.some((x) => x !== 0);
  const biasName = needsBias
    ? b.weight(n.bias ?? b.freshWeightName(`${n.id}.b`), { shape: [kept.length], data: Float32Array.from(bias) })
    : null;
  const input = b.select(n.input, read);
  return {
    ...n,
    ...rest,
    type: p.type,
    input,
    bias: biasName,
    ...(n.op === 'conv2d' ? { filter: newWeight } : { weight: newWeight }),
  } as Node;
}

const flagsOf = (kept: readonly number[], length: number) => {
  const flags = new Uint8Array(length);
  for (const o of kept) flags[o] = 1;
  return flags;
};

export const CHANNEL_RULES: { readonly [O in Op]: ChannelRule<O> } = {
  input: {
    constants: varying,
    independence: (n) => new Uint8Array(channelsOf(n.type)),
    // Graph inputs are given whole by the caller.
    kept: (_, needed) => new Uint8Array(needed.length).fill(1),
    reads: () => [],
    prune: (n) => n,
  },
  conv2d: {
    constants: linearConstants,
    independence: linearIndependence,
    kept: (n, needed, c) => {
      const x = c.typeOf(n.input);
      if (convKind(n, x) !== 'grouped' || linearInputOffset(n, x, needed) !== null) return needed;
      // Groups must stay equal in size: keep every channel of a group that has a needed one.
      const width = needed.length / n.groups;
      const flags = new Uint8Array(needed.length);
      for (let g = 0; g < n.groups; g++) {
        if (needed.subarray(g * width, (g + 1) * width).some((f) => f === 1)) flags.fill(1, g * width, (g + 1) * width);
      }
      return flags;
    },
    reads: (n, kept, c) => {
      const x = c.typeOf(n.input);
      const offset = linearInputOffset(n, x, kept);
      if (offset !== null) return linearReads(n, offset, kept, c);
      if (convKind(n, x) === 'depthwise') return sameChannels(n, kept);
      const cin = channelsOf(x);
      const flags = new Uint8Array(cin);
      kept.forEach((f, o) => {
        if (!f) return;
        const { firstInput, width } = groupOf(n, cin, o);
        flags.fill(1, firstInput, firstInput + width);
      });
      return [flags];
    },
    prune: (n, p) => {
      const { builder: b, kept, weights: W } = p;
      const inputType = p.typeOf(n.input);
      const offset = linearInputOffset(n, inputType, flagsOf(kept, channelsOf(n.type)));
      // A grouped conv left with one group becomes a plain conv over that group's channels.
      if (offset !== null) return pruneLinear(n, offset, { groups: 1 }, p);
      const filter = b.weight(n.filter, sliceLastAxis(W[n.filter], kept));
      const bias = n.bias === null ? null : b.weight(n.bias, sliceLastAxis(W[n.bias], kept));
      const groups = convKind(n, inputType) === 'depthwise' ? kept.length : (n.groups * kept.length) / channelsOf(n.type);
      return { ...n, type: p.type, input: b.select(n.input, p.reads[0]), filter, bias, groups };
    },
  },
  dense: {
    constants: linearConstants,
    independence: linearIndependence,
    reads: (n, kept, c) => linearReads(n, 0, kept, c),
    prune: (n, p) => pruneLinear(n, 0, {}, p),
  },
  batch_norm: {
    constants: (n, c) => {
      const w = bnWeightNames(n.params);
      const [gamma, beta, mean, variance] = [w.gamma, w.beta, w.mean, w.variance].map((name) => c.weights[name].data);
      return c
        .constantsOf(n.input)
        .map((k, ch) =>
          gamma[ch] === 0 ? beta[ch] : k === null ? null : (gamma[ch] * (k - mean[ch])) / Math.sqrt(variance[ch] + n.epsilon) + beta[ch],
        );
    },
    independence: (n, c) => {
      const gamma = c.weights[bnWeightNames(n.params).gamma].data;
      return c.independentOf(n.input).map((f, ch) => (gamma[ch] === 0 ? 1 : f));
    },
    reads: sameChannels,
    prune: (n, p) => {
      for (const name of Object.values(bnWeightNames(n.params))) p.builder.weight(name, sliceLastAxis(p.weights[name], p.kept));
      return channelwise(n, p);
    },
  },
  scale_shift: {
    constants: (n, c) => {
      const scale = n.scale === null ? null : c.weights[n.scale].data;
      const shift = n.shift === null ? null : c.weights[n.shift].data;
      return c.constantsOf(n.input).map((k, ch) => {
        const s = scale ? scale[ch] : 1;
        const b = shift ? shift[ch] : 0;
        return s === 0 ? b : k === null ? null : k * s + b;
      });
    },
    independence: (n, c) => {
      const scale = n.scale === null ? null : c.weights[n.scale].data;
      return c.independentOf(n.input).map((f, ch) => (scale !== null && scale[ch] === 0 ? 1 : f));
    },
    reads: sameChannels,
    prune: (n, p) => {
      const scale = n.scale === null ? null : p.builder.weight(n.scale, sliceLastAxis(p.weights[n.scale], p.kept));
      const shift = n.shift === null ? null : p.builder.weight(n.shift, sliceLastAxis(p.weights[n.shift], p.kept));
      return { ...channelwise(n, p), scale, shift };
    },
  },
  relu: elementwise(ACTIVATION.relu),
  relu6: elementwise(ACTIVATION.relu6),
  sigmoid: elementwise(ACTIVATION.sigmoid),
  silu: elementwise((v) => v * ACTIVATION.sigmoid(v)),
  hard_sigmoid: elementwise(hardSigmoid),
  hard_swish: elementwise((v) => v * hardSigmoid(v)),
  // Max pooling ignores padded positions, so a constant stays constant.
  max_pool: passConstants(),
  global_avg_pool: passConstants(),
  avg_pool: {
    constants: (n, c) => {
      const padded = n.countIncludePad && !seesNoPadding(n, c.typeOf(n.input));
      return c.constantsOf(n.input).map((k) => (k === null ? null : padded && k !== 0 ? null : k));
    },
    independence: sameIndependence,
    reads: sameChannels,
    prune: channelwise,
  },
  add: {
    constants: (n, c) => {
      const operands = n.inputs.map(c.constantsOf);
      return range(channelsOf(n.type)).map((ch) => {
        let sum = 0;
        for (const o of operands) {
          const k = o[ch];
          if (k === null) return null;
          sum += k;
        }
        return sum;
      });
    },
    independence: (n, c) =>
      Uint8Array.from({ length: channelsOf(n.type) }, (_, ch) => (n.inputs.every((v) => c.independentOf(v)[ch] === 1) ? 1 : 0)),
    reads: (n, kept, c) => {
      // An operand that is constant on every kept channel becomes a shift of the result; keep at
      // least one operand so that the add still has something to shift.
      const constant = new Set<number>();
      n.inputs.forEach((v, i) => {
        const k = c.constantsOf(v);
        if (kept.every((f, ch) => !f || k[ch] !== null)) constant.add(i);
      });
      if (constant.size === n.inputs.length) constant.delete(0);
      c.constantOperands(n.id, constant);
      return n.inputs.map((_, i) => (constant.has(i) ? new Uint8Array(kept.length) : Uint8Array.from(kept)));
    },
    prune: (n, p) => {
      const { builder: b, kept } = p;
      const constant = p.constantOperands(n.id);
      const operands = n.inputs.filter((_, i) => !constant.has(i)).map((v) => b.select(v, kept));
      const shift = Float64Array.from(kept, (ch) =>
        n.inputs.reduce((s, v, i) => (constant.has(i) ? s + (p.constantsOf(v)[ch] ?? 0) : s), 0),
      );
      const shifted = shift.some((x) => x !== 0);
      const sum =
        operands.length === 1
          ? operands[0]
          : b.append({ ...n, id: shifted ? b.freshId(`${n.id}.sum`) : n.id, type: p.type, inputs: operands });
      if (!shifted) return sum;
      const shiftName = b.weight(b.freshWeightName(`${n.id}.shift`), { shape: [kept.length], data: Float32Array.from(shift) });
      return { op: 'scale_shift', id: n.id, type: p.type, input: sum, scale: null, shift: shiftName };
    },
  },
  // x * g, g of x's shape or a per-channel gate [N, 1, 1, C] (squeeze-excite): the operands and
  // the result share one channel set. A channel that is zero in either operand (a pruned feature
  // channel, gamma = beta = 0) is zero whatever the other holds, so consumers that absorb
  // constants leave it out of the mul and of the producers of both operands (the expand conv of
  // a squeeze-excite gate). An operand constant on every kept channel folds into a scale_shift
  // of the other, like any constant (the gate only when x is the operand left: the result has
  // x's shape).
  mul: {
    constants: (n, c) => {
      const [a, b] = n.inputs.map(c.constantsOf);
      return range(channelsOf(n.type)).map((ch) =>
        a[ch] === 0 || b[ch] === 0 ? 0 : a[ch] === null || b[ch] === null ? null : a[ch] * b[ch],
      );
    },
    independence: (n, c) => {
      const [a, b] = n.inputs.map(c.constantsOf);
      const [ia, ib] = n.inputs.map(c.independentOf);
      return Uint8Array.from({ length: channelsOf(n.type) }, (_, ch) => ((ia[ch] && ib[ch]) || a[ch] === 0 || b[ch] === 0 ? 1 : 0));
    },
    reads: (n, kept, c) => {
      const constantOn = (v: ValueId) => kept.every((f, ch) => !f || c.constantsOf(v)[ch] !== null);
      const sameShapes =
        channelsOf(c.typeOf(n.inputs[1])) === channelsOf(n.type) && c.typeOf(n.inputs[1]).shape.every((d, i) => d === n.type.shape[i]);
      const constant = new Set<number>(constantOn(n.inputs[1]) ? [1] : constantOn(n.inputs[0]) && sameShapes ? [0] : []);
      c.constantOperands(n.id, constant);
      return n.inputs.map((_, i) => (constant.has(i) ? new Uint8Array(kept.length) : Uint8Array.from(kept)));
    },
    prune: (n, p) => {
      const { builder: b, kept } = p;
      const constant = p.constantOperands(n.id);
      if (constant.size === 0) return { ...n, type: p.type, inputs: n.inputs.map((v) => b.select(v, kept)) };
      const [folded] = [...constant];
      const scale = Float32Array.from(kept, (ch) => p.constantsOf(n.inputs[folded])[ch] ?? 0);
      const scaleName = b.weight(b.freshWeightName(`${n.id}.scale`), { shape: [kept.length], data: scale });
      return { op: 'scale_shift', id: n.id, type: p.type, input: b.select(n.inputs[1 - folded], kept), scale: scaleName, shift: null };
    },
  },
  concat: {
    constants: (n, c) => n.inputs.flatMap((v) => [...c.constantsOf(v)]),
    independence: (n, c) => Uint8Array.from(n.inputs.flatMap((v) => [...c.independentOf(v)])),
    reads: (n, kept, c) => {
      let offset = 0;
      return n.inputs.map((v) => {
        const width = channelsOf(c.typeOf(v));
        const slice = kept.slice(offset, offset + width);
        offset += width;
        return slice;
      });
    },
    prune: (n, p) => {
      const parts = n.inputs.map((v, i) => ({ v, read: p.reads[i] })).filter((part) => part.read.length > 0);
      const operands = parts.map((part) => p.builder.select(part.v, part.read));
      return operands.length === 1 ? operands[0] : { ...n, type: p.type, inputs: operands };
    },
  },
  flatten: {
    // Feature f of [N, H*W*C] is channel f % C.
    constants: (n, c) => {
      const x = c.constantsOf(n.input);
      return range(channelsOf(n.type)).map((f) => x[f % x.length]);
    },
    independence: (n, c) => {
      const x = c.independentOf(n.input);
      return Uint8Array.from({ length: channelsOf(n.type) }, (_, f) => x[f % x.length]);
    },
    kept: (n, needed, c) => {
      // Flatten keeps every spatial position of a channel that any needed feature comes from.
      const width = channelsOf(c.typeOf(n.input));
      const channels = new Uint8Array(width);
      needed.forEach((f, i) => {
        if (f) channels[i % width] = 1;
      });
      return Uint8Array.from(needed, (_, i) => channels[i % width]);
    },
    reads: (n, kept, c) => [Uint8Array.from({ length: channelsOf(c.typeOf(n.input)) }, (_, i) => kept[i])],
    prune: (n, p) => ({ ...n, type: p.type, input: p.builder.select(n.input, p.reads[0]) }),
  },
  gather: {
    constants: (n, c) => {
      const x = c.constantsOf(n.input);
      return n.indices.map((i) => x[i]);
    },
    independence: (n, c) => Uint8Array.from(n.indices, (i) => c.independentOf(n.input)[i]),
    reads: (n, kept, c) => {
      const flags = new Uint8Array(channelsOf(c.typeOf(n.input)));
      n.indices.forEach((src, j) => {
        if (kept[j]) flags[src] = 1;
      });
      return [flags];
    },
    prune: (n, p) => {
      const source = p.builder.kept(n.input);
      const position = new Map(source.map((ch, i) => [ch, i]));
      const positions = p.kept.map((j) => position.get(n.indices[j]) as number);
      const input = p.builder.compactValue.get(n.input) as ValueId;
      if (positions.length === source.length && positions.every((q, i) => q === i)) return input;
      return { ...n, type: p.type, input, indices: positions };
    },
  },
  // Softmax mixes channels: varying, and all of it or nothing.
  softmax: {
    constants: varying,
    independence: (n, c) => new Uint8Array(channelsOf(n.type)).fill(c.independentOf(n.input).every((f) => f === 1) ? 1 : 0),
    kept: (_, needed) => new Uint8Array(needed.length).fill(needed.some((f) => f === 1) ? 1 : 0),
    reads: (_, kept) => [new Uint8Array(kept.length).fill(1)],
    prune: channelwise,
  },
};

/** The rule of a node's op, typed by it (the table's type guarantees the pairing). */
export function channelRule<O extends Op>(op: O): ChannelRule<O> {
  return CHANNEL_RULES[op] as unknown as ChannelRule<O>;
}
