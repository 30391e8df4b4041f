// How channels move through conv and dense layers, shared by their channel rules: conv weight
// layout, grouping, padding effects, and the linear map summed over kernel positions (in the
// spirit of Torch-Pruning's index maps).
import { isChannelwise } from '../ir/node.ts';
import { padAmounts } from '../ir/shapes.ts';
import { channelsOf, type Conv2dNode, type DenseNode, type Padding, type Pair, type TensorType, type Weights } from '../ir/types.ts';

/** How a conv's channels relate: dense (groups 1), depthwise (1:1), or grouped. */
export type ConvKind = 'full' | 'depthwise' | 'grouped';

export function convKind(node: Conv2dNode, input: TensorType): ConvKind {
  if (node.groups === 1) return 'full';
  if (isChannelwise(node, channelsOf(input))) return 'depthwise';
  return 'grouped';
}

/** The sliding-window attributes of a conv or pooling node. */
export interface SlidingWindow {
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly dilations?: Pair;
  readonly padding: Padding;
}

/**
 * True when no output position of the conv sees padding, so a spatially constant input channel
 * contributes the same amount everywhere and can be folded into the bias.
 */
export function seesNoPadding(window: SlidingWindow, input: TensorType): boolean {
  const [, h, w] = input.shape;
  const dilations = window.dilations ?? [1, 1];
  const ph = padAmounts(h, window.kernel[0], window.strides[0], dilations[0], window.padding, 'h');
  const pw = padAmounts(w, window.kernel[1], window.strides[1], dilations[1], window.padding, 'w');
  return ph[0] === 0 && ph[1] === 0 && pw[0] === 0 && pw[1] === 0;
}

/**
 * The linear map of a conv (summed over kernel positions) or dense layer, as an
 * [inputs x outputs] table: sum[i*out + o] = total weight from input channel i to output o,
 * nonzero[i*out + o] = whether any of those weights is nonzero. For grouped convs, i is the
 * channel's index within its group.
 */
export interface LinearTable {
  readonly inputs: number;
  readonly outputs: number;
  readonly sum: Float64Array;
  readonly nonzero: Uint8Array;
}

export function linearTable(weights: Weights, node: Conv2dNode | DenseNode): LinearTable {
  const w = weights[node.op === 'conv2d' ? node.filter : node.weight];
  const [inputs, outputs] = w.shape.slice(-2);
  const positions = w.data.length / (inputs * outputs);
  const sum = new Float64Array(inputs * outputs);
  const nonzero = new Uint8Array(inputs * outputs);
  const plane = inputs * outputs;
  for (let p = 0; p < positions; p++) {
    for (let k = 0; k < plane; k++) {
      const v = w.data[p * plane + k];
      if (v !== 0) {
        sum[k] += v;
        nonzero[k] = 1;
      }
    }
  }
  return { inputs, outputs, sum, nonzero };
}

/** Output channel -> its group's first input channel, for a conv with `groups`. */
export function groupOf(node: Conv2dNode, cin: number, o: number): { group: number; firstInput: number; width: number } {
  const cout = channelsOf(node.type);
  const group = Math.floor(o / (cout / node.groups));
  const width = cin / node.groups;
  return { group, firstInput: group * width, width };
}

/**
 * Where a conv or dense layer acts as one plain linear map over its kept outputs, the index of
 * its first input channel: 0 for dense layers and full convs, the group's first channel for a
 * grouped conv whose kept outputs all lie in one group (it becomes a plain conv over that
 * group); null otherwise (depthwise, several groups).
 */
export function linearInputOffset(node: Conv2dNode | DenseNode, input: TensorType, keptOutputs: ArrayLike<number>): number | null {
  if (node.op === 'dense') return 0;
  const kind = convKind(node, input);
  if (kind === 'full') return 0;
  if (kind === 'depthwise') return null;
  const cin = channelsOf(input);
  const groups = new Set<number>();
  for (let o = 0; o < keptOutputs.length; o++) if (keptOutputs[o]) groups.add(groupOf(node, cin, o).group);
  return groups.size === 1 ? groupOf(node, cin, keptOutputs.length > 0 ? firstSet(keptOutputs) : 0).firstInput : null;
}

const firstSet = (flags: ArrayLike<number>) => {
  for (let i = 0; i < flags.length; i++) if (flags[i]) return i;
  return 0;
};

/**
 * Whether the constant `k` on an input channel adds the same amount at every output position of
 * a linear layer: always for dense; for a conv, when k is 0 or no output position sees padding.
 * A layer acting as one linear map (see linearInputOffset) then folds it into its bias rather than
 * reading the channel.
 */
export function constantAbsorber(n: Conv2dNode | DenseNode, input: TensorType): (k: number | null) => k is number {
  // Computed once per layer: the test runs for every (input, output) pair of its weights.
  const anyConstant = n.op === 'dense' || seesNoPadding(n, input);
  return (k): k is number => k !== null && (anyConstant || k === 0);
}
