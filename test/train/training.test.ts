// Training on real digits with tiny budgets: loss falls, sparsity training drives more BN
// gammas towards zero than plain training, fine-tuning recovers accuracy after pruning, a
// diverging run stops with the last checkpoint intact, and an interrupted run resumes to
// exactly the weights of an uninterrupted one.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, conv2d, dense, flatten, maxPool, model, relu } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { readCheckpoint } from '../../src/train/checkpoint.ts';
import { trainConfig } from '../../src/train/config.ts';
import { gatherBatch, imageDataset, type ImageDataset } from '../../src/train/data.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { loadMnist } from '../../src/train/mnist.ts';
import { absGammas } from '../../src/train/plots.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { finetune, MULTI_PASS_MAX_LAYER_RATIO, slimCycle } from '../../src/train/slimming.ts';
import { train, TrainingDivergedError, type StepReport } from '../../src/train/trainer.ts';

/** Every k-th sample: the MNIST splits are ordered by class, this keeps all classes. */
function subset(data: ImageDataset, train: number, test: number): ImageDataset {
  const pick = (split: ImageDataset['train'], n: number) =>
    gatherBatch(
      split,
      Array.from({ length: n }, (_, i) => Math.floor((i * split.count) / n)),
    );
  return imageDataset({ ...data, name: `${data.name}-subset`, train: pick(data.train, train), test: pick(data.test, test) });
}

/** conv-BN-ReLU twice with pooling, then dense: small enough for a few hundred fast steps. */
const tinyNet = (): Graph =>
  model('tiny_mnist', { input: [28, 28, 1] }, (x) => {
    let h = maxPool(relu(batchNorm(conv2d(x, 8))), { kernel: 2 });
    h = maxPool(relu(batchNorm(conv2d(h, 16))), { kernel: 2 });
    return dense(flatten(maxPool(h)), 10);
  });

let data: ImageDataset;
let dir: string;
const losses = (run: (hooks: { onStep: (s: StepReport) => void }) => Promise<unknown>) => {
  const seen: number[] = [];
  return run({ onStep: (s) => seen.push(s.loss) }).then(() => seen);
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

beforeAll(async () => {
  await prepareTraining('wasm');
  data = subset(loadMnist(), 2048, 500);
  dir = await mkdtemp(join(tmpdir(), 'slimc-train-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training on MNIST digits', () => {
  let plain: Graph;
  let sparse: Graph;

  it('lowers the loss and leaves no tensor behind (160 steps)', async () => {
    const before = tf.memory().numTensors;
    const config = trainConfig({ epochs: 5, lr: 0.05 });
    let result: Awaited<ReturnType<typeof train>> | undefined;
    const seen = await losses(async (hooks) => (result = await train(tinyNet(), data, config, hooks)));
    expect(seen).toHaveLength(160);
    expect(mean(seen.slice(-20))).toBeLessThan(0.5 * mean(seen.slice(0, 20)));
    plain = result!.graph;
    verify(plain);
    expect(evaluate(plain, data.test).accuracy).toBeGreaterThan(0.85);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with sparsity, drives more BN gammas under 0.05 than plain training does', async () => {
    // lambda is large because the budget is small: the penalty's pull is lambda per unit of lr.
    const result = await train(tinyNet(), data, trainConfig({ epochs: 5, lr: 0.05, sparsity: 5e-2 }));
    sparse = result.graph;
    const small = (g: Graph) => absGammas(g).filter((v) => v < 0.05).length;
    // 24 BN channels in all; the DSL starts every gamma at 0.5.
    expect(small(plain)).toBeLessThanOrEqual(2);
    expect(small(sparse)).toBeGreaterThanOrEqual(small(plain) + 6);
    expect(evaluate(sparse, data.test).accuracy).toBeGreaterThan(0.8);
  });

  it('fine-tuning the pruned compact graph recovers the accuracy pruning lost', async () => {
    // Half the channels of the plainly trained net: gammas are not sparse, so pruning hurts.
    const { compact, report } = slimGraph(plain, { ratio: 0.5, minChannels: 2 });
    expect(report.after.params).toBeLessThan(report.before.params);
    const original = evaluate(plain, data.test).accuracy;
    const pruned = evaluate(compact, data.test).accuracy;
    expect(pruned).toBeLessThan(original - 0.1);
    const tuned = await finetune(compact, data, trainConfig({ epochs: 2, lr: 0.02 }));
    expect(tuned.graph.nodes.map((n) => n.type.shape)).toEqual(compact.nodes.map((n) => n.type.shape));
    expect(evaluate(tuned.graph, data.test).accuracy).toBeGreaterThan(Math.max(pruned + 0.1, original - 0.05));
  });
});

describe('multi-pass slimming', () => {
  it('repeats sparsity training, pruning and fine-tuning, each pass dropping at most half of any layer', async () => {
    const budget = (steps: number) => trainConfig({ epochs: 1, lr: 0.05, maxSteps: steps });
    const phases: string[] = [];
    const result = await slimCycle(tinyNet(), data, {
      passes: 2,
      selection: { ratio: 0.7 },
      sparsityTraining: { ...budget(12), sparsity: 5e-2 },
      finetuning: budget(6),
      hooks: (phase) => {
        phases.push(phase);
        return {};
      },
    });
    expect(phases).toEqual([
      'pass 1/2: sparsity training',
      'pass 1/2: fine-tuning',
      'pass 2/2: sparsity training',
      'pass 2/2: fine-tuning',
    ]);
    expect(result.passes).toHaveLength(2);
    for (const p of result.passes) {
      for (const layer of p.slim.report.channels) {
        expect(layer.after, `pass ${p.pass} ${layer.name}`).toBeGreaterThanOrEqual(
          Math.ceil(layer.before * (1 - MULTI_PASS_MAX_LAYER_RATIO)),
        );
      }
      // The fine-tuned graph is the compact one, trained.
      expect(p.finetuned.graph.nodes.map((n) => n.type.shape)).toEqual(p.slim.compact.nodes.map((n) => n.type.shape));
    }
    const [first, second] = result.passes;
    // A 70% global cut is held at 50% per layer, and the second pass prunes the first's result.
    expect(first.slim.report.channels.every((c) => c.after === c.before / 2)).toBe(true);
    expect(second.slim.report.before.params).toBe(first.slim.report.after.params);
    expect(second.slim.report.after.params).toBeLessThan(second.slim.report.before.params);
    verify(result.graph);
  });
});

describe('checkpoints', () => {
  const small = () => subset(data, 256, 128);

  it('an interrupted run resumes to the same weights as an uninterrupted one', async () => {
    const d = small();
    const config = trainConfig({ epochs: 2, batchSize: 64, lr: 0.05 });
    const straight = await train(tinyNet(), d, config);
    const out = join(dir, 'resume');
    let steps = 0;
    const first = await train(tinyNet(), d, config, { checkpointDir: out, shouldStop: () => ++steps === 6 });
    expect(first.status).toBe('interrupted');
    expect(first.step).toBe(6);
    const saved = await readCheckpoint(out);
    expect(saved.state.step).toBe(6);
    expect(saved.state.history).toHaveLength(1);
    const resumed = await train(tinyNet(), d, config, { checkpointDir: out, resume: saved });
    expect(resumed.status).toBe('complete');
    for (const [name, w] of Object.entries(straight.graph.weights)) {
      expect(Array.from(resumed.graph.weights[name].data), `@${name}`).toEqual(Array.from(w.data));
    }
    // The final checkpoint is a complete model the other commands can read.
    const last = await readCheckpoint(out);
    expect(last.state.complete).toBe(true);
    expect(last.graph.weights['bn1.gamma'].data).toEqual(resumed.graph.weights['bn1.gamma'].data);
  });

  it('keeps only the newest checkpoints when asked', async () => {
    const out = join(dir, 'keep');
    await train(tinyNet(), small(), trainConfig({ epochs: 3, lr: 0.05 }), { checkpointDir: out, keepCheckpoints: 2 });
    expect((await readdir(out)).filter((n) => n.startsWith('epoch-')).sort()).toEqual(['epoch-002', 'epoch-003']);
    expect((await readCheckpoint(out)).state.history).toHaveLength(3);
  });

  it('a diverging run stops with a clear error and leaves the last good checkpoint in place', async () => {
    const d = small();
    const out = join(dir, 'diverge');
    await train(tinyNet(), d, trainConfig({ epochs: 1, lr: 0.05 }), { checkpointDir: out });
    const latest = await readFile(join(out, 'latest.json'), 'utf8');
    const good = await readCheckpoint(out);
    const run = train(tinyNet(), d, trainConfig({ epochs: 3, lr: 1e12, momentum: 0.9 }), { checkpointDir: out, resume: good });
    await expect(run).rejects.toThrow(TrainingDivergedError);
    // Caught at the loss of a step, or at the checkpoint if the last update was the one to blow up.
    await expect(run).rejects.toThrow(/(the loss became (NaN|Infinity)|became non-finite).*keep the last good state/);
    expect(await readFile(join(out, 'latest.json'), 'utf8')).toBe(latest);
    expect((await readCheckpoint(out)).graph.weights['conv1.w'].data).toEqual(good.graph.weights['conv1.w'].data);
  });
});
