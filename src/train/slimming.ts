// The Network Slimming cycle on real data: sparsity training, pruning, fine-tuning, repeated
// `passes` times. With more than one pass each pass drops at most half of any layer's channels
// (the paper's multi-pass rule), so no layer is cut away in one go.
import { join } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import type { Graph } from '../ir/types.ts';
import { slimGraph, type SlimResult } from '../passes/slim.ts';
import type { SelectionOptions } from '../passes/select_channels.ts';
import type { TrainConfig } from './config.ts';
import type { ImageDataset } from './data.ts';
import { evaluate } from './evaluate.ts';
import { train, type TrainHooks, type TrainResult } from './trainer.ts';

/** The per-layer cap of a multi-pass run: at most half of a layer's channels per pass. */
export const MULTI_PASS_MAX_LAYER_RATIO = 0.5;

/** Fine-tunes a pruned graph from its copied weights: plain training, no sparsity penalty. */
export function finetune(compact: Graph, data: ImageDataset, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  return train(compact, data, { ...config, sparsity: 0 }, { phase: 'finetune', ...hooks });
}

export interface SlimCycleOptions {
  readonly passes: number;
  /** Selection per pass (ratio, exclude, minChannels...); maxLayerRatio is 0.5 when passes > 1 unless given. */
  readonly selection: SelectionOptions;
  readonly sparsityTraining: TrainConfig;
  readonly finetuning: TrainConfig;
  /** Checkpoints go to <dir>/pass-<k>/{sparsity,finetune}. */
  readonly checkpointDir?: string;
  /** Hooks for each training run, told which phase runs. */
  readonly hooks?: (phase: string) => Omit<TrainHooks, 'checkpointDir' | 'phase' | 'resume'>;
  /** Told after each pruning: the pass's input graph and its sparsity-trained version. */
  readonly onPruned?: (pass: number, result: SlimResult, trained: Graph, input: Graph) => void | Promise<void>;
}

export interface PassRecord {
  readonly pass: number;
  readonly sparsityTrained: Graph;
  readonly slim: SlimResult;
  /** Test accuracy of the pruned model before fine-tuning. */
  readonly prunedAccuracy: number;
  readonly finetuned: TrainResult;
}

export interface SlimCycleResult {
  readonly passes: readonly PassRecord[];
  /** The last fine-tuned compact graph. */
  readonly graph: Graph;
  readonly status: TrainResult['status'];
}

export async function slimCycle(graph: Graph, data: ImageDataset, opts: SlimCycleOptions): Promise<SlimCycleResult> {
  if (!Number.isInteger(opts.passes) || opts.passes < 1)
    throw new SlimcError(`must be a whole number >= 1, got ${opts.passes}`, '--passes');
  const selection: SelectionOptions = {
    ...opts.selection,
    maxLayerRatio: opts.selection.maxLayerRatio ?? (opts.passes > 1 ? MULTI_PASS_MAX_LAYER_RATIO : undefined),
  };
  const records: PassRecord[] = [];
  let current = graph;
  for (let pass = 1; pass <= opts.passes; pass++) {
    const dir = (phase: string) => (opts.checkpointDir === undefined ? undefined : join(opts.checkpointDir, `pass-${pass}`, phase));
    const sparsityPhase = `pass ${pass}/${opts.passes}: sparsity training`;
    const sparse = await train(current, data, opts.sparsityTraining, {
      ...opts.hooks?.(sparsityPhase),
      phase: sparsityPhase,
      checkpointDir: dir('sparsity'),
    });
    if (sparse.status === 'interrupted') return { passes: records, graph: sparse.graph, status: 'interrupted' };
    const slim = slimGraph(sparse.graph, selection);
    await opts.onPruned?.(pass, slim, sparse.graph, current);
    const prunedAccuracy = evaluate(slim.compact, data.test).accuracy;
    const finetunePhase = `pass ${pass}/${opts.passes}: fine-tuning`;
    const tuned = await finetune(slim.compact, data, opts.finetuning, {
      ...opts.hooks?.(finetunePhase),
      phase: finetunePhase,
      checkpointDir: dir('finetune'),
    });
    records.push({ pass, sparsityTrained: sparse.graph, slim, prunedAccuracy, finetuned: tuned });
    current = tuned.graph;
    if (tuned.status === 'interrupted') return { passes: records, graph: current, status: 'interrupted' };
  }
  return { passes: records, graph: current, status: 'complete' };
}

/**
 * A pruning ratio read off the |gamma| distribution: after sparsity training the sorted
 * values split into a cluster near zero and the channels that matter. The ratio cuts at the
 * widest gap on a log scale between 10% and 90% of the channels.
 */
export function ratioFromGammas(absGammas: readonly number[], range: readonly [number, number] = [0.1, 0.9]): number {
  const sorted = [...absGammas].sort((a, b) => a - b);
  const n = sorted.length;
  if (n < 2) return 0;
  const floor = Math.max(sorted[n - 1] * 1e-3, 1e-12);
  const log = (v: number) => Math.log(Math.max(v, floor));
  let best = Math.floor(range[0] * n);
  let widest = -Infinity;
  for (let i = Math.max(0, Math.floor(range[0] * n) - 1); i < Math.min(n - 1, Math.ceil(range[1] * n)); i++) {
    const gap = log(sorted[i + 1]) - log(sorted[i]);
    if (gap > widest) {
      widest = gap;
      best = i + 1;
    }
  }
  return best / n;
}
