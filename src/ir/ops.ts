// The op table: one record per op holding what the IR knows of it (its weights and the shapes
// they must have, its shape rule, its cost and its text syntax). The table is typed
// by the op union, so a new op does not compile until it has a record; the generic views of a
// node (node.ts), the verifier, the cost model and the text form are derived from it.
//
// Elsewhere there is one more table per concern, each keyed by the op union the same way: how
// channels move through an op (passes/channel_rules.ts), what it computes (interp/kernels.ts) and
// how it is emitted (codegen). Elementwise ops share one record shape (elementwise.ts).
import { ELEMENTWISE_OPS, type ElementwiseOp } from './elementwise.ts';
import { expectRank, fail, formatShape, sameShape, spatial } from './shapes.ts';
import { formatFloat, formatPadding, formatPair, unarySyntax, value, variadicSyntax, weight, type OpSyntax } from './text/syntax.ts';
import type { BodyOp, NodeReader, PrintedAttr, PrintedParts } from './text/syntax.ts';
import type { AvgPoolNode, MaxPoolNode, Node, NodeOf, Op, TensorType, WeightName } from './types.ts';
import { bnWeightNames, channelsOf, f32 } from './types.ts';

export interface OpDef<O extends Op> {
  /** The weights the node refers to, in operand order; null is an absent optional weight. */
  readonly weights: (n: NodeOf<O>) => readonly (WeightName | null)[];
  /** The shape each of those weights must have (same order), given the input types. */
  readonly weightShapes: (n: NodeOf<O>, inputs: readonly TensorType[]) => readonly (readonly number[])[];
  /** The output type given the input types; fails with a message naming what does not fit. */
  readonly infer: (n: NodeOf<O>, inputs: readonly TensorType[]) => TensorType;
  /** Multiply-accumulates for one sample (see cost.ts for the convention). */
  readonly macs: (n: NodeOf<O>, inputs: readonly TensorType[]) => number;
  /** Which of the weights count as parameters (BN running statistics do not). Default: all. */
  readonly params?: (n: NodeOf<O>) => readonly (WeightName | null)[];
  /** How the op reads and prints in the textual IR (graph inputs are declared in its header). */
  readonly syntax: O extends BodyOp ? OpSyntax<O> : null;
}

const none = () => [];
const noMacs = () => 0;

/** Rank 2 or 4 and the same type out: the per-channel ops. */
function sameType(n: Node, x: TensorType): TensorType {
  if (x.shape.length !== 2 && x.shape.length !== 4) fail(n, `input must have rank 2 or 4, got ${formatShape(x.shape)}`);
  return x;
}

/** A pooling window's attributes, as printed and as read. */
type Window = Pick<MaxPoolNode, 'kernel' | 'strides' | 'padding'>;
const windowAttrs = (n: Window): PrintedAttr[] => [
  ['kernel', formatPair(n.kernel)],
  ['stride', formatPair(n.strides)],
  ['pad', formatPadding(n.padding)],
];
const readWindow = (r: NodeReader): Window => ({ kernel: r.pair('kernel'), strides: r.pair('stride'), padding: r.padding('pad') });

/** Weights, shape rule and cost of the pooling ops: a window over each channel. */
const pooling = {
  weights: none,
  weightShapes: none,
  infer: (n: MaxPoolNode | AvgPoolNode, [x]: readonly TensorType[]) => {
    expectRank(n, x, 4);
    return spatial(n, x, n.kernel, n.strides, [1, 1], n.padding, channelsOf(x));
  },
  macs: noMacs,
};

const elementwiseDef = <O extends ElementwiseOp>(): OpDef<O> => ({
  weights: none,
  weightShapes: none,
  infer: (n, [x]) => sameType(n, x),
  macs: noMacs,
  syntax: unarySyntax as unknown as OpDef<O>['syntax'],
});

const elementwiseDefs = Object.fromEntries(ELEMENTWISE_OPS.map((op) => [op, elementwiseDef()])) as {
  readonly [O in ElementwiseOp]: OpDef<O>;
};

export const OPS: { readonly [O in Op]: OpDef<O> } = {
  input: {
    weights: none,
    weightShapes: none,
    infer: (n) => {
      if (n.type.shape.length < 2 || n.type.shape.some((d) => !Number.isInteger(d) || d < 1)) {
        fail(n, `input shape must have rank >= 2 and positive dimensions, got ${formatShape(n.type.shape)}`);
      }
      return n.type;
    },
    macs: noMacs,
    syntax: null,
  },
  conv2d: {
    weights: (n) => [n.filter, n.bias],
    weightShapes: (n, [x]) => [[n.kernel[0], n.kernel[1], channelsOf(x) / n.groups, channelsOf(n.type)], [channelsOf(n.type)]],
    infer: (n, [x]) => {
      expectRank(n, x, 4);
      const cin = x.shape[3];
      if (!Number.isInteger(n.groups) || n.groups < 1 || cin % n.groups !== 0) {
        fail(n, `groups=${n.groups} must divide the ${cin} input channels`);
      }
      // cout comes from the node's own type: the filter's last dimension is checked by the verifier.
      const cout = n.type.shape[3];
      if (cout % n.groups !== 0) fail(n, `groups=${n.groups} must divide the ${cout} output channels`);
      return spatial(n, x, n.kernel, n.strides, n.dilations, n.padding, cout);
    },
    macs: (n, [x]) => size(n.type.shape.slice(1)) * n.kernel[0] * n.kernel[1] * (channelsOf(x) / n.groups),
    syntax: {
      print: (n) => ({
        operands: [value(n.input), weight(n.filter), weight(n.bias)],
        attrs: [
          ['kernel', formatPair(n.kernel)],
          ['stride', formatPair(n.strides)],
          ['dilation', formatPair(n.dilations)],
          ['pad', formatPadding(n.padding)],
          ['groups', String(n.groups)],
          ['activation', n.activation],
        ],
      }),
      read: (r) => ({
        input: r.value(),
        filter: r.weight(),
        bias: r.optionalWeight(),
        kernel: r.pair('kernel'),
        strides: r.pair('stride'),
        dilations: r.pair('dilation'),
        padding: r.padding('pad'),
        groups: r.int('groups'),
        activation: r.activation('activation'),
      }),
    },
  },
  batch_norm: {
    weights: (n) => Object.values(bnWeightNames(n.params)),
    weightShapes: (_, [x]) => [[channelsOf(x)], [channelsOf(x)], [channelsOf(x)], [channelsOf(x)]],
    infer: (n, [x]) => sameType(n, x),
    macs: noMacs,
    params: (n) => [bnWeightNames(n.params).gamma, bnWeightNames(n.params).beta],
    syntax: {
      print: (n) => ({ operands: [value(n.input), weight(n.params)], attrs: [['eps', formatFloat(n.epsilon)]] }),
      read: (r) => ({ input: r.value(), params: r.weightPrefix(), epsilon: r.float('eps') }),
    },
  },
  ...elementwiseDefs,
  max_pool: {
    ...pooling,
    syntax: {
      print: (n) => ({ operands: [value(n.input)], attrs: windowAttrs(n) }),
      read: (r) => ({ input: r.value(), ...readWindow(r) }),
    },
  },
  avg_pool: {
    ...pooling,
    syntax: {
      print: (n) => ({ operands: [value(n.input)], attrs: [...windowAttrs(n), ['count_include_pad', String(n.countIncludePad)]] }),
      read: (r) => ({ input: r.value(), ...readWindow(r), countIncludePad: r.bool('count_include_pad') }),
    },
  },
  global_avg_pool: {
    weights: none,
    weightShapes: none,
    infer: (n, [x]) => {
      expectRank(n, x, 4);
      return f32([x.shape[0], 1, 1, x.shape[3]]);
    },
    macs: noMacs,
    syntax: unarySyntax,
  },
  add: {
    weights: none,
    weightShapes: none,
    infer: (n, types) => {
      if (n.inputs.length < 2) fail(n, `needs at least 2 inputs, got ${n.inputs.length}`);
      const [first, ...rest] = types;
      rest.forEach((t, i) => {
        if (!sameShape(t.shape, first.shape)) {
          fail(
            n,
            `operand ${i + 1} (%${n.inputs[i + 1]}) has shape ${formatShape(t.shape)} but operand 0 (%${n.inputs[0]}) has ${formatShape(first.shape)}`,
          );
        }
      });
      return first;
    },
    macs: noMacs,
    syntax: variadicSyntax(2),
  },
  mul: {
    weights: none,
    weightShapes: none,
    infer: (n, types) => {
      if (n.inputs.length !== 2) fail(n, `needs 2 inputs, got ${n.inputs.length}`);
      const [x, y] = types;
      const gate = x.shape.length === 4 && sameShape(y.shape, [x.shape[0], 1, 1, x.shape[3]]);
      if (!sameShape(y.shape, x.shape) && !gate) {
        fail(
          n,
          `operand 1 (%${n.inputs[1]}) has shape ${formatShape(y.shape)}; it must have operand 0's shape ${formatShape(x.shape)} or be [N, 1, 1, C] of it`,
        );
      }
      return x;
    },
    macs: noMacs,
    syntax: variadicSyntax(2),
  },
  concat: {
    weights: none,
    weightShapes: none,
    infer: (n, types) => {
      if (n.inputs.length < 1) fail(n, `needs at least 1 input`);
      const lead = types[0].shape.slice(0, -1);
      types.forEach((t, i) => {
        if (!sameShape(t.shape.slice(0, -1), lead)) {
          fail(
            n,
            `operand ${i} (%${n.inputs[i]}) has shape ${formatShape(t.shape)}; all operands must agree on ${formatShape(lead)} before the channel axis`,
          );
        }
      });
      return f32([...lead, types.reduce((s, t) => s + channelsOf(t), 0)]);
    },
    macs: noMacs,
    syntax: variadicSyntax(1),
  },
  flatten: {
    weights: none,
    weightShapes: none,
    infer: (_, [x]) => f32([x.shape[0], size(x.shape.slice(1))]),
    macs: noMacs,
    syntax: unarySyntax,
  },
  dense: {
    weights: (n) => [n.weight, n.bias],
    weightShapes: (n, [x]) => [[channelsOf(x), n.type.shape[1]], [n.type.shape[1]]],
    infer: (n, [x]) => {
      expectRank(n, x, 2);
      return f32([x.shape[0], n.type.shape[1]]);
    },
    macs: (n, [x]) => size(n.type.shape.slice(1)) * channelsOf(x),
    syntax: {
      print: (n) => ({ operands: [value(n.input), weight(n.weight), weight(n.bias)], attrs: [['activation', n.activation]] }),
      read: (r) => ({ input: r.value(), weight: r.weight(), bias: r.optionalWeight(), activation: r.activation('activation') }),
    },
  },
  gather: {
    weights: none,
    weightShapes: none,
    infer: (n, [x]) => {
      const c = channelsOf(x);
      const bad = n.indices.find((i) => !Number.isInteger(i) || i < 0 || i >= c);
      if (bad !== undefined) fail(n, `index ${bad} is out of range for ${c} channels`);
      if (n.indices.length === 0) fail(n, `selects no channel`);
      return f32([...x.shape.slice(0, -1), n.indices.length]);
    },
    macs: noMacs,
    syntax: {
      print: (n) => ({ operands: [value(n.input)], attrs: [['indices', `[${n.indices.join(',')}]`]] }),
      read: (r) => ({ input: r.value(), indices: r.intList('indices') }),
    },
  },
  scale_shift: {
    weights: (n) => [n.scale, n.shift],
    weightShapes: (_, [x]) => [[channelsOf(x)], [channelsOf(x)]],
    infer: (n, [x]) => sameType(n, x),
    macs: noMacs,
    syntax: {
      print: (n) => ({ operands: [value(n.input), weight(n.scale), weight(n.shift)], attrs: [] }),
      read: (r) => ({ input: r.value(), scale: r.optionalWeight(), shift: r.optionalWeight() }),
    },
  },
  softmax: {
    weights: none,
    weightShapes: none,
    infer: (_, [x]) => x,
    macs: noMacs,
    syntax: unarySyntax,
  },
};

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The record of a node's op, typed by it (the table's type guarantees the pairing). */
export function opDef<O extends Op>(op: O): OpDef<O> {
  return OPS[op] as unknown as OpDef<O>;
}

export const ALL_OPS = Object.keys(OPS) as Op[];

export const BODY_OPS = ALL_OPS.filter((op): op is BodyOp => op !== 'input');

export const isBodyOp = (word: string): word is BodyOp => word !== 'input' && Object.hasOwn(OPS, word);

/** The syntax of a body op, typed by it. */
export function opSyntax<O extends BodyOp>(op: O): OpSyntax<O> {
  return OPS[op].syntax as unknown as OpSyntax<O>;
}

/** The printed parts of a node; `op` is `node.op`, passed apart so the entry's type follows it. */
export function printedParts<O extends BodyOp>(op: O, node: NodeOf<O>): PrintedParts {
  return opSyntax(op).print(node);
}
