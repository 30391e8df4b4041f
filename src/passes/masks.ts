// Channel masks: per BatchNorm layer (by its params name), which channels are kept.
import type { Graph } from '../ir/types.ts';

/** keep[c] is true when channel c of the BN survives. Keyed by the BN's params name. */
export type ChannelMasks = Readonly<Record<string, readonly boolean[]>>;

export const keptCount = (mask: readonly boolean[]) => mask.reduce((n, k) => n + (k ? 1 : 0), 0);

/** The batch_norm nodes of a graph, in graph order. */
export const batchNorms = (graph: Graph) => graph.nodes.filter((n) => n.op === 'batch_norm');
