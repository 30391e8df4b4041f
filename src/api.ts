// The programmatic API's functions: each does what the CLI command of the same name does and
// throws the same errors (SlimcError and its subclasses, naming the file, node or option), but
// prints nothing. The CLI adds only presentation to these steps.
import {
  compileGraph,
  OUTPUT_FILES,
  writeCompiled,
  type CompileOptions as GraphCompileOptions,
  type CompileReport,
} from './compiler/compile.ts';
import { checkOutputDir } from './codegen/output_dir.ts';
import type { CheckOptions } from './codegen/check.ts';
import { loadModel } from './cli/load_model.ts';
import { SlimcError } from './ir/errors.ts';
import type { Graph } from './ir/types.ts';
import { slimGraph, type SlimOptions, type SlimResult } from './passes/slim.ts';
import { trainConfig, type TrainConfig } from './train/config.ts';
import type { ImageDataset } from './train/data.ts';
import { prepareTraining } from './train/setup.ts';
import { train as trainLoop, type TrainHooks, type TrainResult } from './train/trainer.ts';
import type { BackendName } from './interp/backend.ts';

/** A model: a loaded Graph, or a path that loadModel reads (.ts/.js module, .slim or .onnx). */
export type ModelSource = Graph | string;

/** A pruning ratio (the fraction of BN channels to drop, in [0, 1)), or the full options. */
export type PruneOptions = number | SlimOptions;

const slimOptions = (options: PruneOptions): SlimOptions => (typeof options === 'number' ? { ratio: options } : options);

const graphOf = async (model: ModelSource, weights?: string): Promise<Graph> =>
  typeof model === 'string' ? loadModel(model, { weights }) : model;

/**
 * Network Slimming on a graph (`slimc prune`): selects the channels to drop from the BN scale
 * factors, and returns the masked original, the compact graph and the report.
 */
export function prune(graph: Graph, options: PruneOptions): SlimResult {
  return slimGraph(graph, slimOptions(options));
}

export interface CompileOptions extends Pick<GraphCompileOptions, 'printAfter' | 'diff' | 'emit' | 'progress'> {
  /** The output directory: model.js, model.d.ts, model.weights.bin, model.slim, package.json, report.json. */
  readonly out: string;
  /** Prune by Network Slimming first. */
  readonly prune?: PruneOptions;
  /** A weights file for a model given by path. */
  readonly weights?: string;
  /** Replace an existing directory that is not a previous slimc output. */
  readonly force?: boolean;
  /** Run the written module against the interpreter (default true); a failed check throws. */
  readonly check?: boolean | CheckOptions;
}

/**
 * `slimc compile`: prunes (if asked), lowers and emits the model as an ES module for
 * tfjs-backend-wasm into `options.out`, runs it against the interpreter, and returns the report.
 */
export async function compile(model: ModelSource, options: CompileOptions): Promise<CompileReport> {
  const inputs = typeof model === 'string' ? [model, ...(options.weights === undefined ? [] : [options.weights])] : [];
  await checkOutputDir(options.out, { force: options.force, inputs, files: OUTPUT_FILES });
  const graph = await graphOf(model, options.weights);
  const { out, prune: pruning, check, force, weights: _weights, ...printing } = options;
  const compiled = compileGraph(graph, { ...printing, slim: pruning === undefined ? undefined : slimOptions(pruning) });
  const { written, ...report } = await writeCompiled(compiled, graph, out, { force, inputs, check, progress: options.progress });
  if (report.check && !report.check.ok) {
    throw new SlimcError(
      `the compiled module differs from the interpreter by ${report.check.maxAbsDiff.toExponential(3)}, beyond the tolerance ${report.check.tolerance.toExponential(3)} ` +
        (written ? '(the files are written for inspection)' : '(the earlier output is left unchanged)'),
      out,
    );
  }
  return report;
}

export interface TrainOptions extends Partial<TrainConfig> {
  /** The tfjs backend (default wasm). */
  readonly backend?: BackendName;
}

/**
 * `slimc train`: trains the graph on the data (with the L1 sparsity penalty on BN gammas when
 * `options.sparsity` is given) and returns the trained graph and the history.
 */
export async function train(
  model: ModelSource,
  data: ImageDataset,
  options: TrainOptions = {},
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const { backend, ...config } = options;
  const graph = await graphOf(model);
  await prepareTraining(backend);
  return trainLoop(graph, data, trainConfig(config), hooks);
}
