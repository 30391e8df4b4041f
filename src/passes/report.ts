// The slimming report: per BN layer the channels before and after, the threshold, and params,
// MACs and FLOPs before and after, for the whole graph and per layer.
import { COST_CONVENTION, cost, type Cost } from '../ir/cost.ts';

import type { Graph } from '../ir/types.ts';
import { batchNorms } from './masks.ts';
import type { Selection } from './select_channels.ts';

export interface Totals {
  readonly params: number;
  readonly macs: number;
  /** 2 x MACs, the paper's convention. */
  readonly flops: number;
}

export interface ChannelReport {
  readonly name: string;
  readonly before: number;
  /** Channels the selection keeps. */
  readonly selected: number;
  /** Channels the BN has in the compact graph (0 when it is gone: its branch was dead). */
  readonly after: number;
  readonly threshold: number;
  readonly heldBy?: string;
}

export interface LayerCostReport {
  readonly id: string;
  readonly op: string;
  readonly before: { readonly params: number; readonly macs: number };
  readonly after: { readonly params: number; readonly macs: number };
}

export interface SlimReport {
  readonly ratio: number | null;
  readonly threshold: number | null;
  readonly before: Totals;
  readonly after: Totals;
  readonly channels: readonly ChannelReport[];
  readonly layers: readonly LayerCostReport[];
  readonly convention: string;
  readonly warnings: readonly string[];
}

const totals = (c: Cost): Totals => ({ params: c.params, macs: c.macs, flops: c.flops });

export function slimReport(original: Graph, compact: Graph, selection: Selection, ratio: number | null): SlimReport {
  const before = cost(original);
  const after = cost(compact);
  const compactBns = new Map(batchNorms(compact).map((bn) => [bn.params, bn.type.shape[bn.type.shape.length - 1]]));
  const afterById = new Map(after.nodes.map((n) => [n.id, n]));
  return {
    ratio,
    threshold: Number.isNaN(selection.threshold) ? null : selection.threshold,
    before: totals(before),
    after: totals(after),
    channels: selection.layers.map((l) => ({
      name: l.name,
      before: l.channels,
      selected: l.kept,
      after: compactBns.get(l.name) ?? 0,
      threshold: l.threshold,
      ...(l.heldBy ? { heldBy: l.heldBy } : {}),
    })),
    layers: before.nodes
      .filter((n) => n.params > 0 || n.macs > 0)
      .map((n) => {
        const a = afterById.get(n.id);
        return { id: n.id, op: n.op, before: { params: n.params, macs: n.macs }, after: { params: a?.params ?? 0, macs: a?.macs ?? 0 } };
      }),
    convention: COST_CONVENTION,
    warnings: selection.warnings,
  };
}
