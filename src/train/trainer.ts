// The training loop: seeded shuffling, SGD steps with the sparsity subgradient, BN running
// statistics, an evaluation and a checkpoint after every epoch. Stops cleanly when asked
// (Ctrl-C): the step in flight finishes and a checkpoint is written, from which a resumed run
// takes exactly the same batches as an uninterrupted one would have.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames, graphInputs } from '../ir/node.ts';
import { formatShape } from '../ir/shapes.ts';
import type { Graph } from '../ir/types.ts';
import { Rng } from '../util/random.ts';
import { updateRunningStatistics, type BatchStatistics } from './batch_norm.ts';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  writeCheckpoint,
  type Checkpoint,
  type EpochRecord,
  type TrainingState,
} from './checkpoint.ts';
import type { TrainConfig } from './config.ts';
import { gatherBatch, takeFirst, type ImageDataset, type LabelledImages } from './data.ts';
import { evaluate } from './evaluate.ts';
import { forwardTraining, logitsValue } from './forward.ts';
import { learningRate, Sgd } from './optimizer.ts';
import { prunableGammas } from './sparsity.ts';
import { TrainableWeights } from './trainable.ts';

/** The loss became NaN or infinite: training stops, the last checkpoint stays as it was. */
export class TrainingDivergedError extends SlimcError {
  override readonly name = 'TrainingDivergedError';
}

export interface StepReport {
  /** 0-based epoch in progress, of `epochs`. */
  readonly epoch: number;
  readonly epochs: number;
  /** 1-based step within the epoch, of `stepsPerEpoch`. */
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  /** Steps done in total. */
  readonly step: number;
  readonly loss: number;
  /** Training accuracy over this epoch so far. */
  readonly accuracy: number;
  readonly stepsPerSecond: number;
  readonly lr: number;
}

export interface TrainHooks {
  /** Where checkpoints go (none are written without it). */
  readonly checkpointDir?: string;
  /** Keep only the newest this many checkpoints (default: all). */
  readonly keepCheckpoints?: number;
  /** Recorded in each checkpoint: 'train', 'finetune', ... */
  readonly phase?: string;
  /** Continue from this checkpoint (its weights, optimizer and position; `config` still rules). */
  readonly resume?: Checkpoint;
  readonly onStep?: (report: StepReport) => void;
  readonly onEpoch?: (record: EpochRecord, checkpoint: string | undefined) => void;
  /** Polled between steps; true stops the run after writing a checkpoint. */
  readonly shouldStop?: () => boolean;
  /** Evaluate on at most this many test samples per epoch (default: all). */
  readonly evalLimit?: number;
}

export interface TrainResult {
  /** The graph with the trained weights (BN running statistics included). */
  readonly graph: Graph;
  readonly history: readonly EpochRecord[];
  /** complete: all epochs; budget: maxSteps reached; interrupted: shouldStop said so. */
  readonly status: 'complete' | 'budget' | 'interrupted';
  readonly step: number;
  /** The last checkpoint written, if any. */
  readonly checkpoint?: string;
}

/** The data must fit the graph: sample shape against the input, classes against the scores. */
export function checkFits(graph: Graph, data: ImageDataset): void {
  const inputs = graphInputs(graph);
  if (inputs.length !== 1) throw new SlimcError(`training needs a graph with one input, this one has ${inputs.length}`, graph.name);
  const sample = inputs[0].type.shape.slice(1);
  if (formatShape(sample) !== formatShape(data.sampleShape)) {
    throw new SlimcError(
      `the model takes samples of shape ${formatShape(sample)} but dataset '${data.name}' has ${formatShape(data.sampleShape)}`,
      `%${inputs[0].id}`,
    );
  }
  const classes = logitsValue(graph).type.shape[1];
  if (classes !== data.classes) {
    throw new SlimcError(`the model scores ${classes} classes but dataset '${data.name}' has ${data.classes}`, `%${logitsValue(graph).id}`);
  }
}

/** What one training step may hold in activations and their gradients (wasm's heap is at most 4 GiB). */
export const STEP_MEMORY_BUDGET = 2 ** 32;

/**
 * Refuses a batch whose step would not fit in memory, before any is allocated: each value is
 * held for the backward pass, and its gradient.
 */
export function checkBatchFits(graph: Graph, batch: number): void {
  const perSample = graph.nodes.reduce((sum, n) => sum + n.type.shape.slice(1).reduce((a, b) => a * b, 1), 0);
  const bytesPerSample = 2 * 4 * perSample;
  if (batch * bytesPerSample <= STEP_MEMORY_BUDGET) return;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  throw new SlimcError(
    `a batch of ${batch} needs about ${gib(batch * bytesPerSample)} for one training step, more than the ${gib(STEP_MEMORY_BUDGET)} a step may use; the largest batch that fits is ${Math.floor(STEP_MEMORY_BUDGET / bytesPerSample)}`,
    '--batch-size',
  );
}

/** The order of the training samples in epoch `epoch`: a function of the seed and epoch only. */
export function epochOrder(seed: number, epoch: number, count: number): number[] {
  return new Rng((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0).permutation(count);
}

export async function train(graph: Graph, data: ImageDataset, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const start = hooks.resume;
  const initial = start ? start.graph : graph;
  checkFits(initial, data);
  checkBatchFits(initial, Math.min(config.batchSize, data.train.count));
  const stepsPerEpoch = Math.ceil(data.train.count / config.batchSize);
  if (start && start.state.stepsPerEpoch !== stepsPerEpoch) {
    throw new SlimcError(
      `the checkpoint was made with ${start.state.stepsPerEpoch} steps per epoch, this run has ${stepsPerEpoch}: resume with the same data and --batch-size`,
      start.state.phase,
    );
  }
  const weights = new TrainableWeights(initial);
  const optimizer = new Sgd(config);
  if (start) optimizer.load(start.optimizer);
  const gammas = prunableGammas(initial, config.sparsityExclude);
  const history: EpochRecord[] = start ? [...start.state.history] : [];
  const totalSteps = Math.min(config.epochs * stepsPerEpoch, config.maxSteps ?? Infinity);
  let step = start ? start.state.step : 0;
  let lastCheckpoint: string | undefined;

  const state = (complete: boolean): TrainingState => ({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    phase: hooks.phase ?? 'train',
    dataset: data.name,
    config,
    step,
    stepsPerEpoch,
    history,
    complete,
  });
  const diverged = (what: string) =>
    new TrainingDivergedError(
      `${what}; ${hooks.checkpointDir === undefined ? 'no checkpoint is written without a checkpoint directory' : `the checkpoints in ${hooks.checkpointDir} keep the last good state`}. Try a lower --lr`,
      hooks.phase ?? 'train',
    );
  const save = async (complete: boolean) => {
    if (hooks.checkpointDir === undefined) return;
    const snapshot = weights.snapshot();
    // The loss of the last step was finite, but its update may not have been.
    const bad = Object.entries(snapshot.weights).find(([, w]) => w.data.some((v) => !Number.isFinite(v)));
    if (bad) throw diverged(`weight @${bad[0]} became non-finite at step ${step}`);
    lastCheckpoint = await writeCheckpoint(
      hooks.checkpointDir,
      { graph: snapshot, optimizer: optimizer.state(weights.variables), state: state(complete) },
      hooks.keepCheckpoints,
    );
  };

  try {
    while (step < totalSteps) {
      const epoch = Math.floor(step / stepsPerEpoch);
      const order = epochOrder(config.seed, epoch, data.train.count);
      const lr = learningRate(config.lr, epoch, config.epochs, config.milestones);
      const began = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let stopped = false;
      const first = step % stepsPerEpoch;
      for (let i = first; i < stepsPerEpoch && step < totalSteps; i++) {
        const batch = gatherBatch(data.train, order.slice(i * config.batchSize, (i + 1) * config.batchSize));
        const result = trainStep(initial, weights, optimizer, batch, lr, gammas, config.sparsity);
        if (!Number.isFinite(result.loss)) {
          throw diverged(`the loss became ${result.loss} at epoch ${epoch + 1}, step ${i + 1}`);
        }
        step++;
        lossSum += result.loss * batch.count;
        correct += result.correct;
        seen += batch.count;
        hooks.onStep?.({
          epoch,
          epochs: config.epochs,
          stepInEpoch: i + 1,
          stepsPerEpoch,
          step,
          loss: result.loss,
          accuracy: correct / seen,
          stepsPerSecond: (i + 1 - first) / ((performance.now() - began) / 1000),
          lr,
        });
        if (hooks.shouldStop?.()) {
          stopped = true;
          break;
        }
        // Let signal handlers and timers run between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (step % stepsPerEpoch === 0 && seen > 0) {
        const test = evaluate(initial, hooks.evalLimit ? takeFirst(data.test, hooks.evalLimit) : data.test, weights.lookup);
        const record: EpochRecord = {
          epoch: step / stepsPerEpoch,
          lr,
          trainLoss: lossSum / seen,
          trainAccuracy: correct / seen,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          seconds: (performance.now() - began) / 1000,
        };
        history.push(record);
        await save(step >= config.epochs * stepsPerEpoch);
        hooks.onEpoch?.(record, lastCheckpoint);
      } else if (stopped || step >= totalSteps) {
        await save(false);
      }
      if (stopped) return { graph: weights.snapshot(), history, status: 'interrupted', step, checkpoint: lastCheckpoint };
    }
    const complete = step >= config.epochs * stepsPerEpoch;
    return { graph: weights.snapshot(), history, status: complete ? 'complete' : 'budget', step, checkpoint: lastCheckpoint };
  } finally {
    weights.dispose();
    optimizer.dispose();
  }
}

/** One SGD step on one batch; returns the batch's mean loss and correct count. */
export function trainStep(
  graph: Graph,
  weights: TrainableWeights,
  optimizer: Sgd,
  batch: LabelledImages,
  lr: number,
  gammas: readonly string[],
  sparsity: number,
): { loss: number; correct: number } {
  const input = graphInputs(graph)[0];
  const statistics = new Map<string, BatchStatistics>();
  const x = tf.tensor(batch.images, [batch.count, ...input.type.shape.slice(1)], 'float32');
  const labels = tf.tensor1d(batch.labels, 'int32');
  let hits: tf.Scalar | undefined;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = forwardTraining(graph, weights, x, statistics);
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar;
    }, [...weights.variables.values()]);
    const loss = value.dataSync()[0];
    value.dispose();
    // variableGrads keys gradients by variable name; the optimizer keys them by weight name.
    const byWeight: tf.NamedTensorMap = {};
    for (const [name, v] of weights.variables) if (grads[v.name]) byWeight[name] = grads[v.name];
    if (Number.isFinite(loss)) {
      optimizer.apply(weights.variables, byWeight, lr, { weights: new Set(gammas), lambda: sparsity });
      for (const node of graph.nodes) {
        if (node.op !== 'batch_norm') continue;
        const s = statistics.get(node.params);
        if (!s) continue;
        const w = bnWeightNames(node.params);
        const [mean, variance] = updateRunningStatistics(weights.lookup(w.mean), weights.lookup(w.variance), s);
        weights.setStatistic(w.mean, mean);
        weights.setStatistic(w.variance, variance);
      }
    }
    Object.values(grads).forEach((g) => g.dispose());
    return { loss, correct: hits ? hits.dataSync()[0] : 0 };
  } finally {
    for (const s of statistics.values()) {
      s.mean.dispose();
      s.variance.dispose();
    }
    hits?.dispose();
    x.dispose();
    labels.dispose();
  }
}
