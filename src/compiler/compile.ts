// Compiling a graph to a module: optional Network Slimming (select, mask, prune), the lowering
// passes, emission; then the files written to an output directory and the emitted module run
// against the interpreter on the reference graph. The CLI's `compile` command only presents this.
import { channelsOf } from '../ir/node.ts';
import { printGraph } from '../ir/text/printer.ts';
import type { Graph } from '../ir/types.ts';
import { SlimcError } from '../ir/errors.ts';
import { LOWERING_PASSES } from '../passes/lower/index.ts';
import { batchNorms } from '../passes/masks.ts';
import { runPipeline, INPUT_POINT, type PipelineOptions, type PipelineTrace } from '../passes/pass_manager.ts';
import { COST_CONVENTION, cost } from '../ir/cost.ts';
import type { Totals } from '../passes/report.ts';
import { slimGraph, slimmingPasses, type SlimOptions, type SlimResult } from '../passes/slim.ts';
import { jsLiteral } from '../codegen/escape.ts';
import { tfjsVersions } from '../codegen/app_setup.ts';
import { checkCompiledModule, type CheckOptions, type CheckResult } from '../codegen/check.ts';
import { COMPILER, DECLARATIONS_FILE, emitModule, MODULE_FILE, WEIGHTS_FILE, type EmittedModule } from '../codegen/module_source.ts';
import { GENERATOR, REPORT_FILE, writeOutputDir, type OutputFiles } from '../codegen/output_dir.ts';
import { measureLatency, type BenchOptions, type Latency } from '../report/latency.ts';
import { HTML_REPORT_FILE, reportHtml } from '../report/report_html.ts';
import { compileReportInput } from '../report/report_input.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const IR_FILE = 'model.slim';
/** Marks the output directory's model.js as an ES module for Node, wherever the directory is. */
export const PACKAGE_FILE = 'package.json';

export interface CompileOptions {
  /** Prune by Network Slimming with these options; absent: compile the graph as it is. */
  readonly slim?: SlimOptions;
  /** Passes after which to print the IR ('input', a slimming or lowering pass, or 'all'). */
  readonly printAfter?: readonly string[] | 'all';
  /** Print a unified diff of the IR for each pass printAfter selects (every pass if none). */
  readonly diff?: boolean;
  /** Where printed IR and diffs go. */
  readonly emit?: (text: string) => void;
  /** Progress lines for long steps. */
  readonly progress?: (line: string) => void;
  /** `// %id` comments in model.js (default 'auto': unless the module would grow too large). */
  readonly annotate?: boolean | 'auto';
}

export interface Compiled {
  /** What the module must compute: the masked original when pruning, else the input graph. */
  readonly reference: Graph;
  /** After slimming (the input graph when not pruning). */
  readonly compact: Graph;
  /** The final IR: after the lowering passes; what model.js runs and model.slim prints. */
  readonly lowered: Graph;
  readonly module: EmittedModule;
  readonly slim: SlimResult | null;
  /** Weight floats the module ships, and those it would ship with every channel selection kept as a copy. */
  readonly weightFloats: WeightFloats;
  /** The lowering pipeline's IR after each pass (for report.html's diffs). */
  readonly lowering: PipelineTrace;
  /** Wall time per pass, and of the whole compile. */
  readonly milliseconds: { readonly passes: Readonly<Record<string, number>>; readonly compile: number };
}

/** Every pass name --print-after accepts for a compile (with or without pruning). */
export function compilePassNames(pruning: boolean): string[] {
  return [INPUT_POINT, ...(pruning ? slimmingPasses({}).map((p) => p.name) : []), ...LOWERING_PASSES.map((p) => p.name)];
}

/** The graph pruned (if asked), lowered and emitted. Pure: nothing is written. */
export function compileGraph(graph: Graph, opts: CompileOptions = {}): Compiled {
  const start = performance.now();
  const pruning = opts.slim !== undefined;
  const slimNames = pruning ? slimmingPasses({}).map((p) => p.name) : [];
  const printAfter = opts.printAfter;
  if (printAfter !== undefined && printAfter !== 'all') {
    const known = compilePassNames(pruning);
    const unknown = printAfter.find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new SlimcError(`unknown pass "${unknown}"; the passes of this compile are: ${known.join(', ')} (or "all")`, '--print-after');
    }
  }
  // Slimming and lowering are two pipelines; each prints the points that belong to it.
  // 'all' becomes each pipeline's own names, so that the input prints once (by the first).
  const pointsIn = (names: readonly string[]) =>
    printAfter === undefined ? undefined : printAfter === 'all' ? names : printAfter.filter((n) => names.includes(n));
  const passes: Record<string, number> = {};
  const common: PipelineOptions = { diff: opts.diff, emit: opts.emit, onPass: (name, ms) => (passes[name] = ms) };

  let slim: SlimResult | null = null;
  let compact = graph;
  if (opts.slim !== undefined) {
    opts.progress?.('selecting and pruning channels');
    slim = slimGraph(graph, opts.slim, { ...common, printAfter: pointsIn([INPUT_POINT, ...slimNames]) });
    compact = slim.compact;
  }
  opts.progress?.('lowering');
  const loweringPoints = pointsIn(pruning ? LOWERING_PASSES.map((p) => p.name) : [INPUT_POINT, ...LOWERING_PASSES.map((p) => p.name)]);
  const { graph: lowered, trace: lowering } = runPipeline(compact, LOWERING_PASSES, { ...common, printAfter: loweringPoints });
  // The graph before selections fold into convs: what the official channel-selection layer ships, or less (its BN stays at full width).
  const foldAt = LOWERING_PASSES.findIndex((p) => p.name === 'fold-channel-selections');
  const unfolded = foldAt > 0 ? (lowering.graphs.get(LOWERING_PASSES[foldAt - 1].name) ?? lowered) : lowered;
  opts.progress?.('emitting the module');
  const module = emitModule(lowered, { annotate: opts.annotate });
  return {
    reference: slim?.masked ?? graph,
    compact,
    lowered,
    module,
    slim,
    weightFloats: { shipped: cost(lowered).params, unfolded: cost(unfolded).params },
    lowering,
    milliseconds: { passes, compile: performance.now() - start },
  };
}

export interface WeightFloats {
  readonly shipped: number;
  /** With no channel selection folded into a conv (which adds zero filter rows; at most 5% more). */
  readonly unfolded: number;
}

export interface ChannelCount {
  readonly name: string;
  readonly before: number;
  readonly after: number;
}

export interface CompiledFile {
  readonly name: string;
  readonly bytes: number;
}

export interface CompileReport {
  readonly generator: typeof GENERATOR;
  readonly compiler: string;
  readonly model: string;
  readonly ratio: number | null;
  /** The input graph. */
  readonly before: Totals;
  /** The compact graph (equal to before without pruning). */
  readonly after: Totals;
  /** The final IR the module runs: BNs folded into conv biases, or turned into scale_shift. */
  readonly emitted: Totals;
  /** Peak activation memory of the module's plan for one sample (batch N takes N times this), in bytes. */
  readonly peakActivationBytes: number;
  readonly weightFloats: WeightFloats;
  readonly channels: readonly ChannelCount[];
  readonly check: CheckResult | null;
  /** Measured with --bench: the module's median latency against the unpruned module's. */
  readonly latency: Latency | null;
  /** The files written besides report.json (report.html among them). */
  readonly files: readonly CompiledFile[];
  readonly milliseconds: { readonly compile: number; readonly check: number | null; readonly passes: Readonly<Record<string, number>> };
  readonly convention: string;
}

const totals = (g: Graph): Totals => {
  const c = cost(g);
  return { params: c.params, macs: c.macs, flops: c.flops };
};

/** Per BN layer, channels before and after slimming. */
function channelCounts(compiled: Compiled, source: Graph): ChannelCount[] {
  if (compiled.slim) return compiled.slim.report.channels.map((c) => ({ name: c.name, before: c.before, after: c.after }));
  return batchNorms(source).map((bn) => ({ name: bn.params, before: channelsOf(bn.type.shape), after: channelsOf(bn.type.shape) }));
}

/** The names of the files of an output directory, without report.json. */
export const OUTPUT_FILES: readonly string[] = [MODULE_FILE, DECLARATIONS_FILE, WEIGHTS_FILE, IR_FILE, PACKAGE_FILE, HTML_REPORT_FILE];

/** The files of an output directory, without report.json. */
export function outputFiles(compiled: Compiled): OutputFiles {
  return {
    [MODULE_FILE]: compiled.module.js,
    [DECLARATIONS_FILE]: compiled.module.dts,
    [WEIGHTS_FILE]: compiled.module.weights,
    [IR_FILE]: printGraph(compiled.lowered),
    [PACKAGE_FILE]: `${jsLiteral({ type: 'module', private: true, description: `${compiled.lowered.name}, compiled by ${COMPILER}`, peerDependencies: tfjsVersions() }, 2)}\n`,
  };
}

export interface WriteOptions {
  /** Replace an existing directory that is not a previous slimc output (and all it holds). */
  readonly force?: boolean;
  /** Files the model was read from: a directory holding one is never replaced. */
  readonly inputs?: readonly string[];
  /** Run the module against the interpreter (default true). */
  readonly check?: boolean | CheckOptions;
  /** Time the written module against the unpruned one (compiled for it) and report both. */
  readonly bench?: boolean | BenchOptions;
  readonly progress?: (line: string) => void;
}

/** The report, and whether the directory holds the new files. */
export interface WrittenReport extends CompileReport {
  /** False when the check failed and an earlier output was left in place. */
  readonly written: boolean;
}

/**
 * Compiles the unpruned graph into a temporary directory inside `staging`, for --bench's baseline:
 * both modules resolve the same tfjs packages, and a run killed while timing leaves it inside the
 * staging directory, which the next run removes with it.
 */
async function withUnprunedModule<T>(source: Graph, staging: string, use: (dir: string, weightsBytes: number) => Promise<T>): Promise<T> {
  const unpruned = compileGraph(source);
  const dir = await mkdtemp(join(staging, '.unpruned-'));
  try {
    for (const [name, content] of Object.entries(outputFiles(unpruned))) await writeFile(join(dir, name), content);
    return await use(dir, unpruned.module.weights.byteLength);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the compiled model to `dir`: into a temporary directory, where the written module runs
 * against the interpreter on the reference graph, then swapped into place. The report records
 * the check. A failed check never replaces an earlier output; where there was none, the files
 * are written (to inspect them). The caller decides what a failed check means.
 */
export async function writeCompiled(compiled: Compiled, source: Graph, dir: string, opts: WriteOptions = {}): Promise<WrittenReport> {
  const files = outputFiles(compiled);
  const checkOpts = opts.check === false ? null : opts.check === true || opts.check === undefined ? {} : opts.check;
  const benchOpts = opts.bench === undefined || opts.bench === false ? null : opts.bench === true ? {} : opts.bench;
  let check: CheckResult | null = null;
  let checkMs: number | null = null;
  let latency: Latency | null = null;
  let unprunedModuleBytes: number | null = null;
  let html = '';
  const reportOf = (): CompileReport => ({
    generator: GENERATOR,
    compiler: COMPILER,
    model: source.name,
    ratio: compiled.slim ? (compiled.slim.report.ratio ?? null) : null,
    before: totals(source),
    after: totals(compiled.compact),
    emitted: totals(compiled.lowered),
    peakActivationBytes: compiled.module.info.peakActivationBytes,
    weightFloats: compiled.weightFloats,
    channels: channelCounts(compiled, source),
    check,
    latency,
    files: Object.entries<string | Uint8Array>({ ...files, [HTML_REPORT_FILE]: html }).map(([name, content]) => ({
      name,
      bytes: typeof content === 'string' ? new TextEncoder().encode(content).length : content.byteLength,
    })),
    milliseconds: { compile: compiled.milliseconds.compile, check: checkMs, passes: compiled.milliseconds.passes },
    convention: COST_CONVENTION,
  });
  let report = reportOf();
  const notice = (line: string) => opts.progress?.(line);
  const written = await writeOutputDir(dir, files, { force: opts.force, inputs: opts.inputs, notice }, async (staging) => {
    if (checkOpts !== null) {
      opts.progress?.('checking the module against the interpreter');
      const start = performance.now();
      check = await checkCompiledModule(staging, compiled.reference, checkOpts);
      checkMs = performance.now() - start;
    }
    if (benchOpts !== null) {
      opts.progress?.(compiled.slim ? 'timing the module against the unpruned module' : 'timing the module');
      if (compiled.slim) {
        await withUnprunedModule(source, staging, async (unprunedDir, bytes) => {
          unprunedModuleBytes = bytes;
          latency = await measureLatency(staging, unprunedDir, benchOpts);
        });
      } else {
        latency = await measureLatency(staging, null, benchOpts);
      }
    }
    html = reportHtml(compileReportInput(compiled, source, { check, latency, unprunedModuleBytes }));
    report = reportOf();
    return {
      files: { [HTML_REPORT_FILE]: html, [REPORT_FILE]: `${JSON.stringify(report, null, 2)}\n` },
      replace: report.check?.ok !== false,
    };
  });
  return { ...report, written };
}
