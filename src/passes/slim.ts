// Network Slimming as one call: select channels from |gamma|, build the masked original, prune
// it to the compact graph, and report. The pipeline is two named passes so that the pass
// manager can print and diff the IR between them.
import { SlimcError } from '../ir/errors.ts';
import type { Graph } from '../ir/types.ts';
import { analyzeChannels } from './channel_flow.ts';
import { maskChannels } from './mask_channels.ts';
import { keptCount, type ChannelMasks } from './masks.ts';
import { runPipeline, type Pass, type PipelineOptions, type PipelineTrace } from './pass_manager.ts';
import { workingFixes } from './disconnection_fixes.ts';
import { DisconnectedError, pruneChannels } from './prune_channels.ts';
import { slimReport, type SlimReport } from './report.ts';
import { selectChannels, validateSelectionOptions, type Selection, type SelectionOptions } from './select_channels.ts';

export interface SlimOptions extends SelectionOptions {
  /** Explicit masks (from a masks file) instead of the |gamma| ranking. */
  readonly masks?: ChannelMasks;
}

export interface SlimResult {
  readonly selection: Selection;
  readonly masks: ChannelMasks;
  /** The original with gamma = beta = 0 on dropped channels: the reference. */
  readonly masked: Graph;
  /** The pruned graph, computing the masked original's function. */
  readonly compact: Graph;
  readonly report: SlimReport;
  readonly trace: PipelineTrace;
}

export function slimmingPasses(masks: ChannelMasks): Pass[] {
  return [
    {
      name: 'mask-channels',
      description: 'set gamma = beta = 0 on the dropped BN channels (the masked original)',
      run: (g) => maskChannels(g, masks),
    },
    {
      name: 'prune-channels',
      description: 'channel dataflow analysis, then rewrite to the compact graph',
      run: (g) => pruneChannels(g, analyzeChannels(g)),
    },
  ];
}

/** The selection that explicit masks amount to, for the report. */
function selectionOfMasks(masks: ChannelMasks): Selection {
  return {
    masks,
    threshold: Number.NaN,
    layers: Object.entries(masks).map(([name, keep]) => ({ name, channels: keep.length, kept: keptCount(keep), threshold: Number.NaN })),
    warnings: [],
  };
}

export function slimGraph(graph: Graph, opts: SlimOptions, pipeline: PipelineOptions = {}): SlimResult {
  validateSelectionOptions(opts);
  const selection = opts.masks ? selectionOfMasks(opts.masks) : selectChannels(graph, opts);
  let result: ReturnType<typeof runPipeline>;
  try {
    result = runPipeline(graph, slimmingPasses(selection.masks), pipeline);
  } catch (e) {
    const note = selection.warnings.length > 0 ? `\nNote: ${selection.warnings.join('\n')}` : '';
    // Pruning cut the input from an output: say which fixes work (tried, for a ranked selection).
    if (e instanceof DisconnectedError) throw new DisconnectedError(e.disconnections, opts.masks ? [] : workingFixes(graph, opts, e), note);
    // A selection warning (e.g. an untrained model) is usually why pruning failed: say both.
    if (e instanceof SlimcError && note) throw new SlimcError(`${e.message}${note}`);
    throw e;
  }
  const { graph: compact, trace } = result;
  const masked = trace.graphs.get('mask-channels') as Graph;
  return {
    selection,
    masks: selection.masks,
    masked,
    compact,
    report: slimReport(graph, compact, selection, opts.masks ? null : opts.ratio),
    trace,
  };
}
