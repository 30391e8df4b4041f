// Lowering: a channel selection (gather) read only through per-channel ops (1x1 depthwise convs,
// zero-preserving elementwise ops such as relu, scale_shift) by a conv can be dropped: the per-channel ops then run on every
// channel with zero weights on the unselected ones (so those stay exactly 0), and the conv takes
// the unselected channels with zero filter rows. That costs extra multiply-adds and extra weights
// to ship, and pays only when the multiply-adds cost less than the copy the selection makes. In
// the compiled plan a selection is a copy of channel runs between planned buffers. The costs
// below were measured when that copy ran in JS (0.3 to 1.4 ns per element plus ~0.5 us a step);
// the runtime's wasm copy (copy_runs.wat) is 2-4x cheaper, so they overstate it: re-tune them
// with `npm run bench:profile` on a quiet machine. A selection followed by a batch norm is fused
// with it in the plan and costs far less (FUSED_SELECTION_COST_PER_ELEMENT). XNNPACK does a multiply-add of a small pruned layer in about 0.17 ns (a 1x1 conv on
// [1,8,8,16] -> 16: 16,384 multiply-adds in 2.8 us). Folding also ships zero filter rows: it is
// done only while those add at most 5% to the weights the fold touches, so that the weights
// file stays within 5% of what the unfolded graph (and so the official channel-selection layer,
// which keeps the BN at full width) ships.
import { ELEMENTWISE, isElementwiseOp, type ElementwiseOp } from '../../ir/elementwise.ts';
import { channelsOf, isChannelwise, weightsOf } from '../../ir/node.ts';
import type { Conv2dNode, Graph, Node, ValueId, Weight, WeightName } from '../../ir/types.ts';
import { rewriteToFixpoint, type AnyPeepholeRule, type RewriteContext, type RuleResult } from './rewrite.ts';

/** Multiply-adds that cost as much as copying one element in a channel selection (scattered runs). */
export const SELECTION_COST_PER_ELEMENT = 8;
/**
 * Multiply-adds that cost as much as one element of a selection fused with the norm after it,
 * beyond the norm itself: in pruned ResNet-164's first stage the fused step takes 19-25 us where
 * the norm alone took 16-20 us, for 33 of 64 channels at 32x32 pixels (~0.12 ns an element).
 */
export const FUSED_SELECTION_COST_PER_ELEMENT = 1;
/** Multiply-adds that cost as much as one step of the plan. */
export const OP_DISPATCH_COST = 3_000;
/** A fold may add at most this fraction of the weights it touches (zero rows and zero vector entries). */
export const MAX_EXTRA_WEIGHTS = 0.05;

const perSample = (shape: readonly number[]) => shape.slice(1, -1).reduce((a, b) => a * b, 1);

type PerChannelNode = Extract<Node, { op: ElementwiseOp | 'scale_shift' | 'conv2d' }>;

/** A node that maps each channel on its own, and 0 to 0 once its weights are 0 there. */
function isPerChannel(node: Node, ctx: RewriteContext): node is PerChannelNode {
  if (isElementwiseOp(node.op)) return ELEMENTWISE[node.op].zeroPreserving;
  if (node.op === 'scale_shift') return true;
  if (node.op !== 'conv2d') return false;
  const input = ctx.producer(node.input);
  return (
    input !== undefined &&
    isChannelwise(node, channelsOf(input.type)) &&
    node.kernel[0] === 1 &&
    node.kernel[1] === 1 &&
    node.strides.every((s) => s === 1) &&
    (node.padding.kind === 'valid' || node.padding.kind === 'same')
  );
}

/** [K] per-channel values spread to [C]: channel indices[j] gets values[j], the others 0. */
function spread(values: Float32Array, indices: readonly number[], channels: number, fill = 0): Float32Array {
  const out = new Float32Array(channels).fill(fill);
  indices.forEach((c, j) => (out[c] = values[j]));
  return out;
}

/** An HWIO filter [kh, kw, K, O] spread to [kh, kw, C, O] along its input channels. */
function spreadInputs(filter: Weight, indices: readonly number[], channels: number): Weight {
  const [kh, kw, k, o] = filter.shape;
  const out = new Float32Array(kh * kw * channels * o);
  for (let p = 0; p < kh * kw; p++) {
    for (let j = 0; j < k; j++) out.set(filter.data.subarray((p * k + j) * o, (p * k + j + 1) * o), (p * channels + indices[j]) * o);
  }
  return { shape: [kh, kw, channels, o], data: out };
}

function foldSelection(conv: Conv2dNode, ctx: RewriteContext): RuleResult {
  if (conv.groups !== 1) return null;
  // Walk back from the conv through per-channel ops, each read only by the next, to a gather.
  const chain: PerChannelNode[] = [];
  let v: ValueId = conv.input;
  for (;;) {
    const p = ctx.producer(v);
    if (!p || ctx.uses(v) !== 1) return null;
    if (p.op === 'gather') break;
    if (!isPerChannel(p, ctx)) return null;
    chain.unshift(p);
    v = p.input;
  }
  const gather = ctx.producer(v) as Extract<Node, { op: 'gather' }>;
  const source = ctx.producer(gather.input);
  if (!source || new Set(gather.indices).size !== gather.indices.length) return null;
  const channels = channelsOf(source.type.shape);
  const kept = gather.indices.length;
  const dropped = channels - kept;

  const positions = perSample(gather.type.shape);
  // The plan runs a selection and the batch norm right after it (a per-channel 1x1 conv with
  // relu, relu6 or no activation) as one step (build_plan.ts): the selection then adds little to
  // what the norm costs anyway, and no step of its own.
  const first = chain[0];
  const fused = first?.op === 'conv2d' && first.activation !== 'sigmoid';
  const selectionCost = fused
    ? FUSED_SELECTION_COST_PER_ELEMENT * positions * kept
    : OP_DISPATCH_COST + SELECTION_COST_PER_ELEMENT * positions * kept;
  const [kh, kw, , outputs] = ctx.weights[conv.filter].shape;
  const extraCost = chain.length * positions * dropped + perSample(conv.type.shape) * kh * kw * dropped * outputs;
  if (extraCost >= selectionCost) return null;
  // The weights the fold touches (each chain vector and the filter), and the zeros it adds to them.
  const chainWeights = chain.reduce((sum, n) => sum + weightsOf(n).reduce((a, w) => a + ctx.weights[w].data.length, 0), 0);
  const chainVectors = chain.reduce((sum, n) => sum + (n.op === 'scale_shift' ? 2 : n.op === 'conv2d' ? (n.bias === null ? 1 : 2) : 0), 0);
  const filterSize = ctx.weights[conv.filter].data.length;
  const extraWeights = chainVectors * dropped + kh * kw * dropped * outputs;
  if (extraWeights > MAX_EXTRA_WEIGHTS * (chainWeights + filterSize)) return null;

  const { weights: current } = ctx;
  const users = [...chain.map((n) => n.id), conv.id];
  const taken = new Set<WeightName>();
  const weights: Record<WeightName, Weight> = {};
  /** The weight under its own name when no other node reads it, else under a fresh one. */
  const put = (name: WeightName, weight: Weight): WeightName => {
    const target = ctx.weightShared(name, users) || taken.has(name) ? ctx.freshWeightName(`${name}.spread`, taken) : name;
    taken.add(target);
    weights[target] = weight;
    return target;
  };
  const vector = (name: WeightName | null, fill = 0) =>
    name === null ? null : put(name, { shape: [channels], data: spread(current[name].data, gather.indices, channels, fill) });
  const wide = (shape: readonly number[]) => [...shape.slice(0, -1), channels];

  const updated = chain.map((n, i): Node => {
    const input = i === 0 ? gather.input : n.input;
    if (n.op === 'conv2d') {
      const filter = put(n.filter, { shape: [1, 1, 1, channels], data: spread(current[n.filter].data, gather.indices, channels) });
      return { ...n, input, type: { ...n.type, shape: wide(n.type.shape) }, groups: channels, filter, bias: vector(n.bias) };
    }
    if (n.op === 'scale_shift') {
      // A missing scale is 1 on the kept channels, and must be 0 on the others.
      const scale =
        n.scale === null
          ? put(ctx.freshWeightName(`${n.id}.scale`, taken), {
              shape: [channels],
              data: spread(new Float32Array(kept).fill(1), gather.indices, channels),
            })
          : vector(n.scale);
      return { ...n, input, type: { ...n.type, shape: wide(n.type.shape) }, scale, shift: vector(n.shift) };
    }
    return { ...n, input, type: { ...n.type, shape: wide(n.type.shape) } };
  });
  const filter = put(conv.filter, spreadInputs(current[conv.filter], gather.indices, channels));
  const input = chain.length === 0 ? gather.input : conv.input;
  return { replacement: { ...conv, input, filter }, absorbed: [gather.id], updated, weights };
}

export const FOLD_CHANNEL_SELECTION_RULES: readonly AnyPeepholeRule[] = [
  {
    name: 'fold-selection-into-conv',
    // conv(f(gather(x, I)); W) = conv(f'(x); W'), f' = f with 0 weights off I, W'[:, :, I[j], :] = W[:, :, j, :], 0 elsewhere
    algebra: "conv(f(gather(x; I)); W) = conv(f'(x); W spread over I)",
    root: 'conv2d',
    apply: (root, ctx) => foldSelection(root, ctx),
  },
];

export function foldChannelSelections(graph: Graph): Graph {
  return rewriteToFixpoint(graph, FOLD_CHANNEL_SELECTION_RULES);
}
