// What each op computes, as tfjs ops: the reference semantics of the IR.
//
// Only differentiable tfjs ops are used, so that training can run this same function under
// tf.variableGrads with the weights as variables (overriding batch_norm for training mode).
// Every op returns a fresh tensor the caller owns; temporaries die in the tf.tidy around the
// kernel, and nothing else is disposed here (inputs and weights belong to the caller).
import * as tf from '@tensorflow/tfjs-core';
import { match } from 'ts-pattern';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames, inputsOf, isDepthwise } from '../ir/node.ts';
import { padAmounts } from '../ir/shapes.ts';
import type { Activation, Conv2dNode, Node, NodeOf, Op, Padding, Pair, WeightName } from '../ir/types.ts';

/** The tensor of a weight, by name. The caller owns it (a cache, or a tf.Variable in training). */
export type ParamLookup = (name: WeightName) => tf.Tensor;

/** [[0,0],[top,bottom],[left,right],[0,0]]: padding of an NHWC tensor, as tf.pad and tfjs convs take it. */
type NhwcPadding = [[number, number], [number, number], [number, number], [number, number]];

/** What one op computes from its input tensors (in inputsOf order) and its weights. */
export type Kernel<O extends Op> = (n: NodeOf<O>, inputs: readonly tf.Tensor[], param: ParamLookup) => tf.Tensor;

/** One kernel per op: the reference semantics of the IR. */
export const KERNELS: { readonly [O in Op]: Kernel<O> } = {
  input: (n) => {
    throw new SlimcError('input: graph inputs are bound by the interpreter, not evaluated', `%${n.id}`);
  },
  conv2d: (n, [x], param) => conv2d(x as tf.Tensor4D, n, param),
  batch_norm: (n, [x], param) => {
    const w = bnWeightNames(n.params);
    // y = gamma * (x - mean) / sqrt(var + eps) + beta, each [C] broadcast over the last axis.
    const normalised = tf.div(tf.sub(x, param(w.mean)), tf.sqrt(tf.add(param(w.variance), n.epsilon)));
    return tf.add(tf.mul(param(w.gamma), normalised), param(w.beta));
  },
  relu: (_, [x]) => tf.relu(x),
  relu6: (_, [x]) => tf.relu6(x),
  sigmoid: (_, [x]) => tf.sigmoid(x),
  silu: (_, [x]) => tf.mul(x, tf.sigmoid(x)),
  hard_sigmoid: (_, [x]) => hardSigmoid(x),
  hard_swish: (_, [x]) => tf.mul(x, hardSigmoid(x)),
  max_pool: (n, [x]) => {
    // Padding never wins a max: pad with -Infinity, then pool over whole windows.
    const pads = spatialPadding(x as tf.Tensor4D, n.kernel, n.strides, [1, 1], n.padding);
    return tf.maxPool(padWith(x as tf.Tensor4D, pads, -Infinity), mutable(n.kernel), mutable(n.strides), 'valid');
  },
  avg_pool: (n, [x]) => {
    const pads = spatialPadding(x as tf.Tensor4D, n.kernel, n.strides, [1, 1], n.padding);
    // The mean over each whole window, padded positions counting as zeros.
    const windowMean = tf.avgPool(padWith(x as tf.Tensor4D, pads, 0), mutable(n.kernel), mutable(n.strides), 'valid');
    if (n.countIncludePad || isZeroPadding(pads)) return windowMean;
    // Dividing instead by the real positions only: the same pooling of a padded all-ones
    // image gives, per window, the fraction of it that lies on the image.
    const [, h, w] = x.shape;
    const realFraction = tf.avgPool(padWith(tf.ones([1, h, w, 1]), pads, 0), mutable(n.kernel), mutable(n.strides), 'valid');
    return tf.div(windowMean, realFraction);
  },
  global_avg_pool: (_, [x]) => tf.mean(x, [1, 2], true),
  add: (_, inputs) => tf.addN([...inputs]),
  // Broadcasting multiplies a per-channel gate [N, 1, 1, C] into every position.
  mul: (_, [x, y]) => tf.mul(x, y),
  concat: (_, inputs) => tf.concat([...inputs], -1),
  // NHWC is row-major with channels last, so a reshape is the (h*W + w)*C + c order.
  flatten: (_, [x]) => tf.reshape(x, [x.shape[0], -1]),
  dense: (n, [x], param) => {
    const product = tf.matMul(x as tf.Tensor2D, param(n.weight) as tf.Tensor2D);
    return activate(n.bias === null ? product : tf.add(product, param(n.bias)), n.activation);
  },
  gather: (n, [x]) => tf.gather(x, tf.tensor1d([...n.indices], 'int32'), x.rank - 1),
  scale_shift: (n, [x], param) => {
    const scaled = n.scale === null ? x : tf.mul(x, param(n.scale));
    const shifted = n.shift === null ? scaled : tf.add(scaled, param(n.shift));
    // With neither weight the op is the identity; the result must still be a tensor of its own.
    return shifted === x ? tf.clone(x) : shifted;
  },
  softmax: (_, [x]) => tf.softmax(x, -1),
};

/** The output of `node` from the tensors of its inputs (in inputsOf order). */
export function evalNode(node: Node, inputs: readonly tf.Tensor[], param: ParamLookup): tf.Tensor {
  const arity = inputsOf(node).length;
  if (inputs.length !== arity) {
    throw new SlimcError(`${node.op}: expected ${arity} input tensor(s), got ${inputs.length}`, `%${node.id}`);
  }
  const kernel = KERNELS[node.op] as Kernel<Op>;
  return tf.tidy(() => kernel(node, inputs, param));
}

function conv2d(x: tf.Tensor4D, n: Conv2dNode, param: ParamLookup): tf.Tensor4D {
  const filter = param(n.filter) as tf.Tensor4D;
  const pads = spatialPadding(x, n.kernel, n.strides, n.dilations, n.padding);
  // tfjs refuses a conv whose strides and dilations both exceed 1: convolve at stride 1 and keep
  // every stride-th row and column, which is the same sliding window.
  const subsample = n.strides.some((s) => s > 1) && n.dilations.some((d) => d > 1);
  const strides: Pair = subsample ? [1, 1] : n.strides;
  let y = groupedConv(x, filter, strides, n.dilations, pads, n.groups);
  if (subsample) y = everyNth(everyNth(y, 1, n.strides[0]), 2, n.strides[1]);
  if (n.bias !== null) y = tf.add(y, param(n.bias));
  return activate(y, n.activation);
}

/** Conv with an HWIO filter [kh, kw, cin / groups, cout]: group g maps its cin/groups input
 *  channels to its cout/groups output channels. */
function groupedConv(x: tf.Tensor4D, filter: tf.Tensor4D, strides: Pair, dilations: Pair, pads: NhwcPadding, groups: number): tf.Tensor4D {
  const cin = x.shape[3];
  const [kh, kw, , cout] = filter.shape;
  const [s, d] = [mutable(strides), mutable(dilations)];
  if (groups === 1) return tf.conv2d(x, filter, s, pads, 'NHWC', d);
  if (isDepthwise({ groups }, cin)) {
    // One input channel per group: a depthwise conv. Output channel c*m + k (m = cout/cin) reads
    // input channel c in both layouts, so [kh, kw, 1, cout] reshapes to tfjs's [kh, kw, cin, m].
    const depthwiseFilter = tf.reshape(filter, [kh, kw, cin, cout / cin]) as tf.Tensor4D;
    return tf.depthwiseConv2d(x, depthwiseFilter, s, pads, 'NHWC', d);
  }
  const xs = tf.split(x, groups, 3) as tf.Tensor4D[];
  const filters = tf.split(filter, groups, 3);
  return tf.concat(
    xs.map((xg, g) => tf.conv2d(xg, filters[g] as tf.Tensor4D, s, pads, 'NHWC', d)),
    3,
  );
}

/** Rows (axis 1) or columns (axis 2) 0, step, 2*step, ... */
function everyNth(y: tf.Tensor4D, axis: 1 | 2, step: number): tf.Tensor4D {
  if (step === 1) return y;
  const kept = Math.ceil(y.shape[axis] / step);
  return tf.gather(y, tf.range(0, kept * step, step, 'int32'), axis);
}

/** The padding the IR prescribes (padAmounts: TF's rule for `same`, extra at bottom/right). */
function spatialPadding(x: tf.Tensor4D, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding): NhwcPadding {
  const [, h, w] = x.shape;
  const [top, bottom] = padAmounts(h, kernel[0], strides[0], dilations[0], padding, 'h');
  const [left, right] = padAmounts(w, kernel[1], strides[1], dilations[1], padding, 'w');
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** tfjs types its pairs as mutable tuples. */
const mutable = (p: Pair): [number, number] => [p[0], p[1]];

const isZeroPadding = (pads: NhwcPadding) => pads.every(([before, after]) => before === 0 && after === 0);

function padWith(x: tf.Tensor4D, pads: NhwcPadding, value: number): tf.Tensor4D {
  return isZeroPadding(pads) ? x : tf.pad(x, pads, value);
}

function activate<T extends tf.Tensor>(y: T, activation: Activation): T {
  return match(activation)
    .with('none', () => y)
    .with('relu', () => tf.relu(y))
    .with('relu6', () => tf.relu6(y))
    .with('sigmoid', () => tf.sigmoid(y))
    .exhaustive();
}

/** relu6(x + 3) / 6, PyTorch's Hardsigmoid. */
function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.div(tf.relu6(tf.add(x, 3)), 6);
}
