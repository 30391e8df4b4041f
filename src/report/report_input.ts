// What report.html shows, gathered from a compile or from a prune.
import type { CheckResult } from '../codegen/check.ts';
import type { Compiled } from '../compiler/compile.ts';
import { COMPILER } from '../codegen/module_source.ts';
import { COST_CONVENTION, cost } from '../ir/cost.ts';
import { bnWeightNames, channelsOf } from '../ir/node.ts';
import type { Graph } from '../ir/types.ts';
import { encodedWeightsSize } from '../ir/weights_file.ts';
import { LOWERING_PASSES } from '../passes/lower/index.ts';
import { batchNorms } from '../passes/masks.ts';
import type { Totals } from '../passes/report.ts';
import { slimmingPasses, type SlimResult } from '../passes/slim.ts';
import type { Latency } from './latency.ts';
import { passDiffs } from './pass_diffs.ts';
import type { ReportInput } from './report_html.ts';

const totals = (g: Graph): Totals => {
  const c = cost(g);
  return { params: c.params, macs: c.macs, flops: c.flops };
};

/** |gamma| of every BN channel the selection could drop (excluded layers left out). */
function prunableGammas(source: Graph, slim: SlimResult | null): number[] {
  const excluded = new Set((slim?.report.channels ?? []).filter((c) => c.heldBy === 'excluded').map((c) => c.name));
  return batchNorms(source)
    .filter((bn) => !excluded.has(bn.params))
    .flatMap((bn) => Array.from(source.weights[bnWeightNames(bn.params).gamma].data, Math.abs));
}

function channelRows(source: Graph, slim: SlimResult | null): ReportInput['channels'] {
  if (slim) return slim.report.channels.map((c) => ({ name: c.name, before: c.before, selected: c.selected, after: c.after }));
  return batchNorms(source).map((bn) => {
    const n = channelsOf(bn.type.shape);
    return { name: bn.params, before: n, selected: n, after: n };
  });
}

/** The slimming part, shared by compile and prune. */
function slimmingInput(
  source: Graph,
  slim: SlimResult | null,
  command: string,
): Omit<ReportInput, 'emitted' | 'sizes' | 'check' | 'latency' | 'loweringPasses'> & { irSizes: { irBefore: number; irAfter: number } } {
  const compact = slim?.compact ?? source;
  const irBefore = encodedWeightsSize(source.weights);
  return {
    command,
    compiler: COMPILER,
    source,
    compact,
    slim: slim?.report ?? null,
    before: totals(source),
    after: totals(compact),
    channels: channelRows(source, slim),
    gammas: prunableGammas(source, slim),
    irSizes: { irBefore, irAfter: slim ? encodedWeightsSize(compact.weights) : irBefore },
    slimmingPasses: slim ? passDiffs(slim.trace, slimmingPasses(slim.masks)) : [],
    convention: COST_CONVENTION,
  };
}

export interface CompileFacts {
  readonly check: CheckResult | null;
  readonly latency: Latency | null;
  /** The unpruned module's weights file, when it was compiled (for --bench). */
  readonly unprunedModuleBytes: number | null;
}

export function compileReportInput(compiled: Compiled, source: Graph, facts: CompileFacts): ReportInput {
  const { irSizes, ...common } = slimmingInput(source, compiled.slim, 'slimc compile');
  return {
    ...common,
    emitted: totals(compiled.lowered),
    sizes: {
      ...irSizes,
      module: compiled.module.weights.byteLength,
      unprunedModule: compiled.slim ? facts.unprunedModuleBytes : compiled.module.weights.byteLength,
    },
    check: facts.check,
    latency: facts.latency,
    loweringPasses: passDiffs(compiled.lowering, LOWERING_PASSES),
  };
}

export function pruneReportInput(source: Graph, slim: SlimResult): ReportInput {
  const { irSizes, ...common } = slimmingInput(source, slim, 'slimc prune');
  return {
    ...common,
    emitted: null,
    sizes: { ...irSizes, module: null, unprunedModule: null },
    check: null,
    latency: null,
    loweringPasses: [],
  };
}
