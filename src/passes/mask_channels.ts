// The masked original: the graph with gamma = beta = 0 on every dropped BN channel.
// A dropped channel then leaves its BN as an exact zero, and this graph is the reference the
// compact graph must reproduce.
import { castDraft, produce } from 'immer';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames } from '../ir/node.ts';
import type { Graph, Weight } from '../ir/types.ts';
import { batchNorms, type ChannelMasks } from './masks.ts';

const zeroWhereDropped = (w: Weight, keep: readonly boolean[]): Weight => ({
  shape: w.shape,
  data: w.data.map((v, c) => (keep[c] ? v : 0)),
});

export function maskChannels(graph: Graph, masks: ChannelMasks): Graph {
  const bns = new Map(batchNorms(graph).map((bn) => [bn.params, bn]));
  for (const [name, keep] of Object.entries(masks)) {
    const bn = bns.get(name);
    if (!bn) throw new SlimcError(`the masks name BatchNorm "${name}", which the graph does not have`, graph.name);
    const channels = bn.type.shape[bn.type.shape.length - 1];
    if (keep.length !== channels) {
      throw new SlimcError(`the mask has ${keep.length} entries, but the layer has ${channels} channels`, `@${name}`);
    }
  }
  return produce(graph, (draft) => {
    for (const [name, keep] of Object.entries(masks)) {
      if (keep.every(Boolean)) continue;
      const { gamma, beta } = bnWeightNames(name);
      draft.weights[gamma] = castDraft(zeroWhereDropped(graph.weights[gamma], keep));
      draft.weights[beta] = castDraft(zeroWhereDropped(graph.weights[beta], keep));
    }
  });
}
