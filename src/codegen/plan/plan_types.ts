// The static execution plan as the emitted module carries it: data, not code. The runtime
// (runtime/model_runtime.js) turns it, per batch size, into calls of tfjs-backend-wasm's kernel
// exports with integer arguments fixed in advance. Shapes are per sample (no batch dimension);
// sizes and offsets are in floats per sample, multiplied by the batch at run time.

/** tfjs-backend-wasm's FusableActivation: 0 linear, 1 relu, 2 relu6, 5 sigmoid. */
export type ActivationCode = 0 | 1 | 2 | 5;

/** Top, right, bottom, left: the argument order of the wasm kernels. */
export type Pads = readonly [number, number, number, number];

/** A value of the plan: where its floats sit in the arena. Values that alias share a slot. */
export interface PlanValue {
  /** Index of the arena slot (one registered backend tensor per slot). */
  readonly slot: number;
  /** Per-sample shape: [H, W, C] or [C]. */
  readonly shape: readonly number[];
}

export interface PlanSlot {
  /** Offset in the arena, floats per sample. */
  readonly offset: number;
  /** Floats per sample. */
  readonly size: number;
}

interface StepBase {
  /** The IR value the step computes (for error messages and reading the plan). */
  readonly name: string;
}

/** `_FusedConv2D` or `_FusedDepthwiseConv2D`; weights are indices into the uploaded tensors (-1: none). */
export interface ConvStep extends StepBase {
  readonly op: 'conv2d' | 'depthwise';
  readonly x: number;
  readonly y: number;
  readonly filter: number;
  readonly bias: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly pads: Pads;
  readonly activation: ActivationCode;
  /** When the conv writes into columns of a wider value (a column buffer): its first column and its own channels. */
  readonly into?: { readonly column: number; readonly channels: number };
}

/** `_MaxPool` or `_AvgPool` (an average over the real positions of each window). */
export interface PoolStep extends StepBase {
  readonly op: 'max_pool' | 'avg_pool';
  readonly x: number;
  readonly y: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: Pads;
}

/** `_Add` for two operands, `_AddN` for more. */
export interface AddStep extends StepBase {
  readonly op: 'add';
  readonly xs: readonly number[];
  readonly y: number;
}

/** `_Relu`, `_Relu6`, `_Sigmoid`, `_Softmax` (over the last axis). */
export interface UnaryStep extends StepBase {
  readonly op: 'relu' | 'relu6' | 'sigmoid' | 'softmax';
  readonly x: number;
  readonly y: number;
}

/** `_Multiply`: b of a's shape, or [N, 1, 1, C] against [N, H, W, C] (broadcast over the pixels). */
export interface MulStep extends StepBase {
  readonly op: 'mul';
  readonly a: number;
  readonly b: number;
  readonly y: number;
}

/** `_FusedMatMul` of [N, in] by a weight [in, out]. */
export interface DenseStep extends StepBase {
  readonly op: 'dense';
  readonly x: number;
  readonly y: number;
  readonly weight: number;
  readonly bias: number;
  readonly activation: ActivationCode;
}

/**
 * The per-channel batch norm a gather carries when it was followed by one (a 1x1 depthwise conv
 * with bias and relu, relu6 or no activation): y = act(x[indices[c]] * scale[c] + shift[c]).
 */
export interface GatherAffine {
  /** Uploaded weights: the depthwise filter (one scale per kept channel) and its bias (-1: none). */
  readonly scale: number;
  readonly shift: number;
  readonly activation: 0 | 1 | 2;
}

/**
 * A channel selection: the channels the engine path's constant `indices` lists (a base64 bit
 * mask or a list: the module carries each selection once), copied 4 channels at a time, with the
 * batch norm after it applied in the same pass when `affine` is set.
 */
export interface GatherStep extends StepBase {
  readonly op: 'gather';
  readonly x: number;
  readonly y: number;
  readonly indices: number;
  readonly affine: GatherAffine | null;
}

/** Copies between planned buffers (concats): runs of [from channel, to channel, length], every pixel. */
export interface CopyStep extends StepBase {
  readonly op: 'copy';
  readonly xs: readonly number[];
  readonly y: number;
  /** Per source in `xs`: its runs. */
  readonly runs: readonly (readonly (readonly [number, number, number])[])[];
}

export type PlanStep = ConvStep | PoolStep | AddStep | MulStep | UnaryStep | DenseStep | GatherStep | CopyStep;

export interface PlanSpec {
  /** Arena size, floats per sample. */
  readonly arena: number;
  readonly slots: readonly PlanSlot[];
  readonly values: readonly PlanValue[];
  /** Value index of each graph input, in graph order. */
  readonly inputs: readonly number[];
  /** Value index of each graph output, in graph order. */
  readonly outputs: readonly number[];
  readonly steps: readonly PlanStep[];
  /** The wasm exports the steps call (checked at load against the backend). */
  readonly exports: readonly string[];
}

/**
 * A step as the emitted module writes it: a tuple, op and name first (one line per step, and
 * about a third of the text of an object):
 *   [conv2d | depthwise, name, x, y, filter, bias, kh, kw, sh, sw, dh, dw, top, right, bottom, left, activation]
 *   [max_pool | avg_pool, name, x, y, kh, kw, sh, sw, top, right, bottom, left]
 *   [add, name, y, ...xs]
 *   [mul, name, a, b, y]
 *   [relu | relu6 | sigmoid | softmax, name, x, y]
 *   [dense, name, x, y, weight, bias, activation]
 *   [gather, name, x, y, indices] or [gather, name, x, y, indices, scale, shift, activation]
 *   [copy, name, y, [x, runs], ...]
 */
export type EncodedStep =
  | readonly [
      ConvStep['op'],
      string,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      ActivationCode,
      // into: column, channels (only when the conv writes into a wider value)
      number?,
      number?,
    ]
  | readonly [PoolStep['op'], string, number, number, number, number, number, number, number, number, number, number]
  | readonly ['add', string, number, ...number[]]
  | readonly ['mul', string, number, number, number]
  | readonly [UnaryStep['op'], string, number, number]
  | readonly ['dense', string, number, number, number, number, ActivationCode]
  | readonly ['gather', string, number, number, number]
  | readonly ['gather', string, number, number, number, number, number, GatherAffine['activation']]
  | readonly ['copy', string, number, ...(readonly [number, readonly (readonly [number, number, number])[]])[]];

/** The plan as the runtime walks it: steps as tuples. */
export interface RuntimePlan extends Omit<PlanSpec, 'steps'> {
  readonly steps: readonly EncodedStep[];
}

/**
 * The plan as the emitted module carries it: steps as tuples, slots as [offset, size] and values
 * as [slot, shape] (a ResNet-164's few hundred values as objects took 7 KB of model.js); the
 * runtime decodes it into a RuntimePlan at load.
 */
export interface EncodedPlan extends Omit<RuntimePlan, 'slots' | 'values'> {
  readonly slots: readonly (readonly [number, number])[];
  readonly values: readonly (readonly [number, readonly number[]])[];
}
