// The slimc graph IR: an immutable SSA graph of typed values, NHWC layout.
//
// Invariants (checked by verify.ts):
// - every value is produced by exactly one node (`id` is unique) and defined before use:
//   `nodes` is in topological order;
// - every node carries its static output type, consistent with the shape rules in shapes.ts;
// - weights are plain data (shape + Float32Array) held beside the structure by name; a node
//   refers to them by name and the IR never holds a tf.Tensor;
// - dimension 0 of every value is the batch dimension. The graph records the batch it was built
//   for (usually 1); no op mixes samples, so executors accept any batch size N.
//
// Everything is readonly. Updates go through immer `produce`; typed arrays are not
// draftable, so immer neither copies nor freezes weight data: a pass that changes a weight
// allocates a new Float32Array.

import type { ElementwiseOp } from './elementwise.ts';

export type DType = 'f32';

export interface TensorType {
  readonly dtype: DType;
  /** NHWC for 4-D values, [N, features] for 2-D values. */
  readonly shape: readonly number[];
}

/** Name of an SSA value, printed as `%name`. */
export type ValueId = string;
/** Name of a weight tensor in `Graph.weights`, printed as `@name`. */
export type WeightName = string;

export interface Weight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Weights = Readonly<Record<WeightName, Weight>>;

/** Spatial padding, as TensorFlow defines `same` and `valid`, or explicit amounts. */
export type Padding =
  | { readonly kind: 'same' }
  | { readonly kind: 'valid' }
  | {
      readonly kind: 'explicit';
      readonly top: number;
      readonly bottom: number;
      readonly left: number;
      readonly right: number;
    };

/** An activation fused into a conv2d or dense node (set by lowering; the DSL emits 'none'). */
export type Activation = 'none' | 'relu' | 'relu6';

export type Pair = readonly [number, number];

interface NodeBase {
  readonly id: ValueId;
  readonly type: TensorType;
}

/** A graph input. Its type is the declared input type. */
export interface InputNode extends NodeBase {
  readonly op: 'input';
}

/**
 * 2-D convolution. filter is HWIO: [kh, kw, cin / groups, cout]; bias is [cout] or absent.
 * groups == cin == cout is a depthwise conv (channel multiplier 1).
 */
export interface Conv2dNode extends NodeBase {
  readonly op: 'conv2d';
  readonly input: ValueId;
  readonly filter: WeightName;
  readonly bias: WeightName | null;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly padding: Padding;
  readonly groups: number;
  readonly activation: Activation;
}

/**
 * Inference-mode batch normalisation over the channel (last) axis:
 *   y = gamma * (x - mean) / sqrt(var + eps) + beta
 * `params` names four weights of shape [C]: `${params}.gamma`, `.beta`, `.mean`, `.var`.
 * The params name is the layer's name in reports and masks files.
 */
export interface BatchNormNode extends NodeBase {
  readonly op: 'batch_norm';
  readonly input: ValueId;
  readonly params: string;
  readonly epsilon: number;
}

/** An elementwise op (relu, relu6, ...: see elementwise.ts): a function of each element alone. */
export interface ElementwiseNode<O extends ElementwiseOp = ElementwiseOp> extends NodeBase {
  readonly op: O;
  readonly input: ValueId;
}

export type ReluNode = ElementwiseNode<'relu'>;
export type Relu6Node = ElementwiseNode<'relu6'>;

export interface MaxPoolNode extends NodeBase {
  readonly op: 'max_pool';
  readonly input: ValueId;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
}

export interface AvgPoolNode extends NodeBase {
  readonly op: 'avg_pool';
  readonly input: ValueId;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  /** Whether padded positions count in the divisor (ONNX count_include_pad). */
  readonly countIncludePad: boolean;
}

/** Mean over H and W: [N, H, W, C] -> [N, 1, 1, C]. */
export interface GlobalAvgPoolNode extends NodeBase {
  readonly op: 'global_avg_pool';
  readonly input: ValueId;
}

/** Elementwise sum of two or more values of the same type (residual connections). */
export interface AddNode extends NodeBase {
  readonly op: 'add';
  readonly inputs: readonly ValueId[];
}

/** Concatenation along the channel (last) axis (DenseNet). */
export interface ConcatNode extends NodeBase {
  readonly op: 'concat';
  readonly inputs: readonly ValueId[];
}

/** [N, H, W, C] -> [N, H*W*C], NHWC order: channel c at (h, w) lands at (h*W + w)*C + c. */
export interface FlattenNode extends NodeBase {
  readonly op: 'flatten';
  readonly input: ValueId;
}

/** Fully connected layer: [N, in] x weight [in, out] (+ bias [out]). */
export interface DenseNode extends NodeBase {
  readonly op: 'dense';
  readonly input: ValueId;
  readonly weight: WeightName;
  readonly bias: WeightName | null;
  readonly activation: Activation;
}

/** Channel selection: output channel i is input channel indices[i] (last axis). */
export interface GatherNode extends NodeBase {
  readonly op: 'gather';
  readonly input: ValueId;
  readonly indices: readonly number[];
}

/** Per-channel y = x * scale + shift (last axis); either weight may be absent (1 or 0). */
export interface ScaleShiftNode extends NodeBase {
  readonly op: 'scale_shift';
  readonly input: ValueId;
  readonly scale: WeightName | null;
  readonly shift: WeightName | null;
}

/** Softmax over the last axis. */
export interface SoftmaxNode extends NodeBase {
  readonly op: 'softmax';
  readonly input: ValueId;
}

export type Node =
  | InputNode
  | Conv2dNode
  | BatchNormNode
  | { [O in ElementwiseOp]: ElementwiseNode<O> }[ElementwiseOp]
  | MaxPoolNode
  | AvgPoolNode
  | GlobalAvgPoolNode
  | AddNode
  | ConcatNode
  | FlattenNode
  | DenseNode
  | GatherNode
  | ScaleShiftNode
  | SoftmaxNode;

export type Op = Node['op'];

export type NodeOf<O extends Op> = Extract<Node, { op: O }>;

export interface Graph {
  readonly name: string;
  /** Topological order; input nodes may appear anywhere before their users. */
  readonly nodes: readonly Node[];
  /** The graph's results, in order. */
  readonly outputs: readonly ValueId[];
  readonly weights: Weights;
  /**
   * Tensor layout at the graph's border, when it came from a framework that is not NHWC (the ONNX
   * importer sets `{ input: 'NCHW' }`). Executors and emitted modules then accept 4-D inputs and
   * return 4-D outputs in that layout, transposing at the border only; inside, values are NHWC.
   * Absent means NHWC.
   */
  readonly layout?: { readonly input: 'NCHW' | 'NHWC' };
}

export const f32 = (shape: readonly number[]): TensorType => ({ dtype: 'f32', shape });

/** Number of channels (the last dimension) of a type or a shape. */
export function channelsOf(of: TensorType | readonly number[]): number {
  const shape = 'shape' in of ? of.shape : of;
  return shape[shape.length - 1];
}

/** The four weights a batch_norm's `params` names, in BatchNorm parameter order. */
export const bnWeightNames = (params: string) =>
  ({
    gamma: `${params}.gamma`,
    beta: `${params}.beta`,
    mean: `${params}.mean`,
    variance: `${params}.var`,
  }) as const;

/** Names are keys of plain records; this one would set a record's prototype instead. */
export const RESERVED_NAME = '__proto__';
