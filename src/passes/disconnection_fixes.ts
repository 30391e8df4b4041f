// Fixes for a pruning that cut the network's input from an output, each tried before it is
// said: a fix is suggested only if selecting, masking and analysing with it leaves every output
// connected. (--min-channels 1 does not help when two layers keep disjoint channels through a
// depthwise conv; excluding one of them, or pruning less, does.)
import type { Graph } from '../ir/types.ts';
import { analyzeChannels } from './channel_flow.ts';
import { findDisconnections } from './disconnection.ts';
import { maskChannels } from './mask_channels.ts';
import type { DisconnectedError } from './prune_channels.ts';
import { selectChannels, type SelectionOptions } from './select_channels.ts';

/** Whether selecting channels with `opts` leaves every output depending on the input. */
export function staysConnected(graph: Graph, opts: SelectionOptions): boolean {
  const masked = maskChannels(graph, selectChannels(graph, opts).masks);
  return findDisconnections(masked, analyzeChannels(masked)).length === 0;
}

/** The largest ratio below `ratio`, in steps of 0.05, that stays connected (bisection), if any. */
function largestWorkingRatio(graph: Graph, opts: SelectionOptions): number | undefined {
  const steps = Math.ceil(opts.ratio / 0.05) - 1;
  const ratioAt = (k: number) => Math.round(k * 5) / 100;
  if (steps < 1 || !staysConnected(graph, { ...opts, ratio: ratioAt(1) })) return undefined;
  let lo = 1;
  let hi = steps + 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (staysConnected(graph, { ...opts, ratio: ratioAt(mid) })) lo = mid;
    else hi = mid;
  }
  return ratioAt(lo);
}

/** Fixes that were tried and work, as lines for the error message. */
export function workingFixes(graph: Graph, opts: SelectionOptions, error: DisconnectedError): string[] {
  const fixes: string[] = [];
  for (const layer of error.layers) {
    if (staysConnected(graph, { ...opts, exclude: [...(opts.exclude ?? []), layer] }))
      fixes.push(`leave layer "${layer}" whole (--exclude ${layer})`);
  }
  if ((opts.minChannels ?? 0) < 1 && staysConnected(graph, { ...opts, minChannels: 1 }))
    fixes.push('keep at least one channel per layer (--min-channels 1)');
  const ratio = largestWorkingRatio(graph, opts);
  if (ratio !== undefined) fixes.push(`prune less: ratio ${ratio} keeps a path`);
  return fixes;
}
