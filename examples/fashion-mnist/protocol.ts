// The Network Slimming protocol (Liu et al. 2017) on Fashion-MNIST, as resumable stages:
//
//   baseline            plain training
//   sparsity-<lambda>   sparsity training from scratch, one stage per lambda
//   prune-<pct>         prune the chosen lambda's model at pct% of the channels, fine-tune
//   pass2-sparsity      second pass (the paper's multi-pass scheme): sparsity training of the
//   pass2-prune         prune-<first pct> model, pruning again (at most half of any layer), fine-tune
//
// Pruning keeps at least one channel per layer (so no layer on the only path can die). Each
// stage writes <out>/<stage>/: checkpoints every epoch (ckpt/), then model.slim with its
// weights and stage.json. A rerun with `resume` skips the finished stages and continues the
// unfinished one from its last checkpoint. Accuracy is measured by compiling each stage's model
// with slimc compile's pipeline and running the emitted module on the test images.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { importEmittedModule } from '../../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../../src/compiler/compile.ts';
import { loadModel } from '../../src/cli/load_model.ts';
import { cost } from '../../src/ir/cost.ts';
import { SlimcError } from '../../src/ir/errors.ts';
import { writeSlimModel } from '../../src/ir/model_files.ts';
import type { Graph } from '../../src/ir/types.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { readCheckpoint, type EpochRecord } from '../../src/train/checkpoint.ts';
import { trainConfig, type TrainConfig } from '../../src/train/config.ts';
import type { ImageDataset, LabelledImages } from '../../src/train/data.ts';
import { finetune, MULTI_PASS_MAX_LAYER_RATIO } from '../../src/train/slimming.ts';
import { train, type StepReport, type TrainHooks, type TrainResult } from '../../src/train/trainer.ts';
import { writeFileAtomically } from '../../src/util/atomic_write.ts';

export interface ProtocolOptions {
  readonly data: ImageDataset;
  /** Stage directories and results.json go here. */
  readonly out: string;
  /** A fresh model (same seed every call). */
  readonly model: () => Graph;
  /** Epochs of baseline and sparsity training. */
  readonly epochs: number;
  /** Epochs of each fine-tuning. */
  readonly finetuneEpochs: number;
  /** Epochs of the second pass's sparsity training. */
  readonly pass2Epochs: number;
  readonly lambdas: readonly number[];
  /** The lambda whose sparsity-trained model is pruned (one of `lambdas`). */
  readonly pruneLambda: number;
  /** Pruning ratios of the first pass, e.g. [0.5, 0.7]; the second pass starts from the first. */
  readonly ratios: readonly number[];
  /** Ratio of the second pass, of the channels left. */
  readonly pass2Ratio: number;
  readonly batchSize: number;
  /** Continue a previous run in `out` (without it, an `out` holding stages is refused). */
  readonly resume: boolean;
  /** Stop after this stage. */
  readonly until?: string;
  /**
   * Run only these stages; other stages finished earlier are read back as sources, the rest are
   * skipped. Lets two processes share one `out` (one core each), e.g. the baseline and some
   * lambdas in one, the pruning chain in the other.
   */
  readonly only?: readonly string[];
  readonly log: (line: string) => void;
  /** Polled between steps: true stops after writing a checkpoint. */
  readonly shouldStop?: () => boolean;
}

/** One finished stage, as results.json records it. */
export interface StageRecord {
  readonly stage: string;
  readonly description: string;
  /** Test accuracy of the compiled module on every test image. */
  readonly accuracy: number;
  /** The trainer's last evaluation (interpreter, same images), for comparison. */
  readonly trainerAccuracy: number | null;
  /** Compiled accuracy right after pruning, before fine-tuning (pruning stages). */
  readonly prunedAccuracy?: number;
  readonly params: number;
  readonly macs: number;
  /** Training time of the stage (sum over its epochs, across resumptions), seconds. */
  readonly seconds: number;
  readonly epochs: number;
  readonly lambda?: number;
  readonly ratio?: number;
  readonly keptChannels?: readonly { readonly name: string; readonly before: number; readonly after: number }[];
  readonly history: readonly EpochRecord[];
}

export interface ProtocolResult {
  readonly status: 'complete' | 'stopped' | 'interrupted';
  readonly stages: readonly StageRecord[];
  readonly graphs: ReadonlyMap<string, Graph>;
}

const pct = (ratio: number) => `${Math.round(100 * ratio)}`;
export const sparsityStage = (lambda: number) => `sparsity-${lambda}`;
export const pruneStage = (ratio: number) => `prune-${pct(ratio)}`;

/** The stage names in the order they run. */
export function stageNames(o: Pick<ProtocolOptions, 'lambdas' | 'ratios'>): string[] {
  return ['baseline', ...o.lambdas.map(sparsityStage), ...o.ratios.map(pruneStage), 'pass2-sparsity', 'pass2-prune'];
}

/** Accuracy of the module slimc compile emits for `graph`, run on every image of `split`. */
export async function compiledAccuracy(graph: Graph, dir: string, split: LabelledImages, batch = 500): Promise<number> {
  await writeCompiled(compileGraph(graph), graph, dir, { check: false, force: true });
  const model = await (await importEmittedModule(dir)).load();
  const perSample = split.images.length / split.count;
  let correct = 0;
  try {
    for (let start = 0; start < split.count; start += batch) {
      const n = Math.min(batch, split.count - start);
      const logits = (await model.predict(split.images.subarray(start * perSample, (start + n) * perSample))) as Float32Array;
      const classes = logits.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
        if (best === split.labels[start + i]) correct++;
      }
    }
  } finally {
    model.dispose();
  }
  return correct / split.count;
}

export async function runProtocol(o: ProtocolOptions): Promise<ProtocolResult> {
  if (!o.lambdas.includes(o.pruneLambda))
    throw new SlimcError(`the lambda to prune (${o.pruneLambda}) is not one of ${o.lambdas.join(', ')}`, '--prune-lambda');
  const names = stageNames(o);
  if (o.until !== undefined && !names.includes(o.until))
    throw new SlimcError(`no stage '${o.until}'; the stages are ${names.join(', ')}`, '--until');
  const unknown = o.only?.find((n) => !names.includes(n));
  if (unknown !== undefined) throw new SlimcError(`no stage '${unknown}'; the stages are ${names.join(', ')}`, '--only');
  if (!o.resume && names.some((n) => existsSync(join(o.out, n)))) {
    throw new SlimcError('already holds stages of a run: continue it with --resume, or choose another --out', o.out);
  }
  await mkdir(o.out, { recursive: true });
  const records: StageRecord[] = [];
  const graphs = new Map<string, Graph>();
  const config = (epochs: number, sparsity = 0): TrainConfig => trainConfig({ epochs, sparsity, batchSize: o.batchSize });
  const hooks = (stage: string): TrainHooks => ({
    phase: stage,
    keepCheckpoints: 2,
    shouldStop: o.shouldStop,
    onStep: (s: StepReport) => {
      if (s.stepInEpoch % 100 === 0) {
        o.log(
          `${stage} epoch ${s.epoch + 1}/${s.epochs} step ${s.stepInEpoch}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} acc ${(100 * s.accuracy).toFixed(1)}% ${s.stepsPerSecond.toFixed(2)} steps/s`,
        );
      }
    },
    onEpoch: (r: EpochRecord) =>
      o.log(
        `${stage} epoch ${r.epoch}: lr ${r.lr}, train acc ${(100 * r.trainAccuracy).toFixed(2)}%, test acc ${(100 * r.testAccuracy).toFixed(2)}% (${r.seconds.toFixed(0)} s)`,
      ),
  });

  /** Trains with checkpoints in <stage>/ckpt, continuing from the last one when resuming. */
  const trainIn = async (stage: string, run: (hooks: TrainHooks) => Promise<TrainResult>): Promise<TrainResult> => {
    const checkpointDir = join(o.out, stage, 'ckpt');
    const resume = o.resume && existsSync(join(checkpointDir, 'latest.json')) ? await readCheckpoint(checkpointDir) : undefined;
    if (resume) o.log(`${stage}: resuming at step ${resume.state.step}`);
    return run({ ...hooks(stage), checkpointDir, resume });
  };

  /** A source stage's model; with --only it may belong to a stage this process does not run. */
  const source = (name: string): Graph => {
    const graph = graphs.get(name);
    if (graph === undefined)
      throw new SlimcError(`needs stage '${name}' finished first (run it, or wait for the process running it)`, '--only');
    return graph;
  };

  type Outcome = Omit<StageRecord, 'stage' | 'accuracy' | 'params' | 'macs'> & { readonly graph: Graph };
  /** Runs a stage, or reads it back if a previous run finished it. False: stopped inside it. */
  const stage = async (name: string, run: () => Promise<Outcome | 'interrupted'>): Promise<boolean> => {
    const dir = join(o.out, name);
    const recordPath = join(dir, 'stage.json');
    if (existsSync(recordPath)) {
      const record = JSON.parse(await readFile(recordPath, 'utf8')) as StageRecord;
      records.push(record);
      graphs.set(name, await loadModel(join(dir, 'model.slim')));
      o.log(`${name}: done earlier (${(100 * record.accuracy).toFixed(2)}%, ${record.params.toLocaleString('en-US')} params)`);
      return true;
    }
    o.log(`${name}: starting`);
    const outcome = await run();
    if (outcome === 'interrupted') return false;
    const { graph, ...rest } = outcome;
    await writeSlimModel(join(dir, 'model.slim'), graph);
    const accuracy = await compiledAccuracy(graph, join(dir, 'compiled'), o.data.test);
    const c = cost(graph);
    const record: StageRecord = { stage: name, ...rest, accuracy, params: c.params, macs: c.macs };
    await writeFileAtomically(recordPath, `${JSON.stringify(record, null, 2)}\n`, 'the stage record');
    records.push(record);
    graphs.set(name, graph);
    o.log(
      `${name}: compiled module ${(100 * accuracy).toFixed(2)}% on ${o.data.test.count} test images, ${c.params.toLocaleString('en-US')} params, ${(c.macs / 1e6).toFixed(2)}M MACs`,
    );
    return true;
  };

  const trained = (r: TrainResult) => ({
    trainerAccuracy: r.history.at(-1)?.testAccuracy ?? null,
    seconds: r.history.reduce((s, e) => s + e.seconds, 0),
    epochs: r.history.length,
    history: r.history,
  });
  const training = (name: string, from: () => Graph, epochs: number, lambda: number, description: string) =>
    stage(name, async () => {
      const r = await trainIn(name, (h) => train(from(), o.data, config(epochs, lambda), h));
      return r.status === 'interrupted' ? 'interrupted' : { description, graph: r.graph, lambda, ...trained(r) };
    });
  const pruning = (name: string, from: () => Graph, ratio: number, maxLayerRatio: number | undefined, description: string) =>
    stage(name, async () => {
      const slim = slimGraph(from(), { ratio, maxLayerRatio, minChannels: 1 });
      const prunedAccuracy = await compiledAccuracy(slim.compact, join(o.out, name, 'compiled-pruned'), o.data.test);
      await rm(join(o.out, name, 'compiled-pruned'), { recursive: true, force: true });
      o.log(`${name}: pruned ${pct(ratio)}% of the channels, ${(100 * prunedAccuracy).toFixed(2)}% before fine-tuning`);
      const r = await trainIn(name, (h) => finetune(slim.compact, o.data, config(o.finetuneEpochs), h));
      if (r.status === 'interrupted') return 'interrupted';
      const keptChannels = slim.report.channels.map((c) => ({ name: c.name, before: c.before, after: c.after }));
      return { description, graph: r.graph, ratio, prunedAccuracy, keptChannels, ...trained(r) };
    });

  const steps: [string, () => Promise<boolean>][] = [
    ['baseline', () => training('baseline', o.model, o.epochs, 0, `baseline: ${o.epochs} epochs, no sparsity penalty`)],
    ...o.lambdas.map((lambda): [string, () => Promise<boolean>] => [
      sparsityStage(lambda),
      () => training(sparsityStage(lambda), o.model, o.epochs, lambda, `sparsity training: ${o.epochs} epochs, lambda ${lambda}`),
    ]),
    ...o.ratios.map((ratio): [string, () => Promise<boolean>] => [
      pruneStage(ratio),
      () =>
        pruning(
          pruneStage(ratio),
          () => source(sparsityStage(o.pruneLambda)),
          ratio,
          undefined,
          `lambda ${o.pruneLambda} model pruned at ${pct(ratio)}% of the channels, fine-tuned ${o.finetuneEpochs} epochs`,
        ),
    ]),
    [
      'pass2-sparsity',
      () =>
        training(
          'pass2-sparsity',
          () => source(pruneStage(o.ratios[0])),
          o.pass2Epochs,
          o.pruneLambda,
          `second pass: sparsity training of ${pruneStage(o.ratios[0])}, ${o.pass2Epochs} epochs, lambda ${o.pruneLambda}`,
        ),
    ],
    [
      'pass2-prune',
      () =>
        pruning(
          'pass2-prune',
          () => source('pass2-sparsity'),
          o.pass2Ratio,
          MULTI_PASS_MAX_LAYER_RATIO,
          `second pass: pruned ${pct(o.pass2Ratio)}% of the channels left (at most half of a layer), fine-tuned ${o.finetuneEpochs} epochs`,
        ),
    ],
  ];
  let skipped = false;
  for (const [name, run] of steps) {
    if (o.only !== undefined && !o.only.includes(name) && !existsSync(join(o.out, name, 'stage.json'))) {
      skipped = true;
      continue;
    }
    if (!(await run())) return { status: 'interrupted', stages: records, graphs };
    if (name === o.until) return { status: 'stopped', stages: records, graphs };
  }
  return { status: skipped ? 'stopped' : 'complete', stages: records, graphs };
}
