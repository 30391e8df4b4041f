// Running named passes on a graph, as `slimc opt` and the IR-file pass tests do: any sequence of
// the passes a compile runs (the names --print-after knows), each verified after it runs.
import { SlimcError } from '../ir/errors.ts';
import type { Graph } from '../ir/types.ts';
import { LOWERING_PASSES } from '../passes/lower/index.ts';
import { runPipeline, type Pass } from '../passes/pass_manager.ts';
import { selectChannels, validateSelectionOptions } from '../passes/select_channels.ts';
import { slimmingPasses, type SlimOptions } from '../passes/slim.ts';
import type { ChannelMasks } from '../passes/masks.ts';

/** Every pass by name: the slimming passes (masked by `masks`) and the lowering passes. */
function passesByName(masks: ChannelMasks | null): ReadonlyMap<string, Pass> {
  const slimming = slimmingPasses(masks ?? {});
  return new Map([...slimming, ...LOWERING_PASSES].map((p) => [p.name, p]));
}

/** The names `runPasses` accepts, in the order a compile runs them. */
export const PASS_NAMES: readonly string[] = [...passesByName(null).keys()];

export interface RunPassesOptions {
  /** How mask-channels selects channels (a ratio or explicit masks); required when it runs. */
  readonly slim?: SlimOptions;
}

/** `graph` after the named passes, in the order given. */
export function runPasses(graph: Graph, names: readonly string[], opts: RunPassesOptions = {}): Graph {
  const unknown = names.find((n) => !PASS_NAMES.includes(n));
  if (unknown !== undefined) throw new SlimcError(`unknown pass "${unknown}"; the passes are: ${PASS_NAMES.join(', ')}`, '--passes');
  if (names.length === 0) throw new SlimcError(`no pass given; the passes are: ${PASS_NAMES.join(', ')}`, '--passes');
  let masks: ChannelMasks | null = null;
  if (names.includes('mask-channels')) {
    if (opts.slim === undefined)
      throw new SlimcError('mask-channels selects channels: give a ratio (--prune) or a masks file (--masks)', '--passes');
    validateSelectionOptions(opts.slim);
    masks = opts.slim.masks ?? selectChannels(graph, opts.slim).masks;
  }
  const byName = passesByName(masks);
  return runPipeline(
    graph,
    names.map((n) => byName.get(n) as Pass),
  ).graph;
}
