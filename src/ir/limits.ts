// Semantic limits the verifier enforces beyond the shape rules. A model may come from anyone, and
// a graph can be well-typed yet ask for what no executor can give: a window dilated past any
// input (`dilation=4294967295x1` pads by gigabytes under pad=same), a tensor of 2^40 floats, an
// add of 50,000 operands (more than the wasm kernels take), a batch norm dividing by sqrt(eps)
// with eps = -1 or NaN. Each rule names what it limits; a model past one is refused with the node
// named, before anything runs.
import { padAmounts } from './shapes.ts';
import type { NodeOf, Op, Padding, Pair, TensorType, ValueId } from './types.ts';

export const LIMITS = {
  /** Elements of any one value (as typed, with its batch) or weight: 2^28 floats are 1 GiB. */
  tensorElements: 2 ** 28,
  /** Height or width of a window's padded input, and so of any window or stride that fits it. */
  spatialExtent: 2 ** 16,
  /** Operands of one add or concat. */
  operands: 1024,
} as const;

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Why a tensor of `shape` is refused, or null. */
export function tensorProblem(shape: readonly number[]): string | null {
  const elements = count(shape);
  if (!Number.isSafeInteger(elements) || elements > LIMITS.tensorElements) {
    return `[${shape.join(',')}] has ${elements} elements, more than the ${LIMITS.tensorElements} slimc allows in one tensor`;
  }
  return null;
}

/** Problems of a sliding window (kernel, stride, dilation, padding) against its input. */
function windowProblems(input: TensorType, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding): string[] {
  const problems: string[] = [];
  (['h', 'w'] as const).forEach((axis, i) => {
    const size = input.shape[i + 1];
    const extent = (kernel[i] - 1) * dilations[i] + 1;
    const [before, after] = padAmounts(size, kernel[i], strides[i], dilations[i], padding, axis);
    const padded = size + before + after;
    const what = axis === 'h' ? 'height' : 'width';
    if (!Number.isSafeInteger(padded) || padded > LIMITS.spatialExtent) {
      problems.push(
        `the padded input ${what} is ${padded} (input ${size}, padding ${before}+${after}, window ${extent}), more than the ${LIMITS.spatialExtent} slimc allows`,
      );
    } else if (extent > padded) {
      problems.push(
        `the window ${what} ${extent} (kernel ${kernel[i]}, dilation ${dilations[i]}) is larger than the padded input ${what} ${padded}`,
      );
    } else if (strides[i] > padded) {
      problems.push(`stride ${strides[i]} is larger than the padded input ${what} ${padded}`);
    }
  });
  return problems;
}

type TypeOf = (v: ValueId) => TensorType;
type OpLimits = { readonly [O in Op]: (node: NodeOf<O>, typeOf: TypeOf) => string[] };

const none = (): string[] => [];
const operands = (node: { readonly inputs: readonly ValueId[] }): string[] =>
  node.inputs.length > LIMITS.operands ? [`${node.inputs.length} operands, more than the ${LIMITS.operands} slimc allows`] : [];

/** Each op's own limits, beyond the size of its value (keyed by op: a new op states its own). */
const OP_LIMITS: OpLimits = {
  input: none,
  conv2d: (n, typeOf) => windowProblems(typeOf(n.input), n.kernel, n.strides, n.dilations, n.padding),
  max_pool: (n, typeOf) => windowProblems(typeOf(n.input), n.kernel, n.strides, [1, 1], n.padding),
  avg_pool: (n, typeOf) => windowProblems(typeOf(n.input), n.kernel, n.strides, [1, 1], n.padding),
  global_avg_pool: none,
  // y = gamma (x - mean) / sqrt(var + eps) + beta: eps keeps the root of a zero variance finite.
  batch_norm: (n) => (Number.isFinite(n.epsilon) && n.epsilon > 0 ? [] : [`eps must be a finite number > 0, got ${n.epsilon}`]),
  relu: none,
  relu6: none,
  add: operands,
  concat: operands,
  flatten: none,
  dense: none,
  gather: none,
  scale_shift: none,
  softmax: none,
  sigmoid: none,
  silu: none,
  hard_sigmoid: none,
  hard_swish: none,
  mul: none,
};

/** Problems of `node` past the limits (its inputs well-typed); `typeOf` gives its inputs' types. */
export function limitProblems<O extends Op>(node: NodeOf<O>, typeOf: TypeOf): string[] {
  const tensor = tensorProblem(node.type.shape);
  const own = (OP_LIMITS[node.op as O] as (node: NodeOf<O>, typeOf: TypeOf) => string[])(node, typeOf);
  return [...(tensor === null ? [] : [`the value ${tensor}`]), ...own].map((p) => `${node.op}: ${p}`);
}
