// Speed of one training step (forward, backward, sparsity subgradient, SGD update, BN running
// statistics) on tfjs-backend-wasm with slimc's replacement kernels, against tfjs-backend-cpu
// in the same process: median step time of each after warm-up, and the ratio.
//
//   npx tsx bench/train_step.ts [--batch 32] [--wasm-steps 30] [--cpu-steps 5] [--warmup 3]
//
// The network is the MNIST example's VGG-style CNN on real MNIST digits.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import mnistVgg from '../examples/mnist/model.ts';
import { cost } from '../src/ir/cost.ts';
import { initBackend, backendInfo, type BackendName } from '../src/interp/backend.ts';
import { gatherBatch } from '../src/train/data.ts';
import { loadMnist } from '../src/train/mnist.ts';
import { Sgd } from '../src/train/optimizer.ts';
import { prepareTraining } from '../src/train/setup.ts';
import { prunableGammas } from '../src/train/sparsity.ts';
import { TrainableWeights } from '../src/train/trainable.ts';
import { trainStep } from '../src/train/trainer.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    'wasm-steps': { type: 'string', default: '30' },
    'cpu-steps': { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
  },
});
const batchSize = Number(values.batch);
const warmup = Number(values.warmup);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const graph = mnistVgg();
const data = loadMnist();
const batches = Array.from({ length: 8 }, (_, k) => gatherBatch(data.train, Array.from({ length: batchSize }, (_, i) => (k * 997 + i * 61) % data.train.count)));
const gammas = prunableGammas(graph);

async function measure(backend: BackendName, steps: number): Promise<number> {
  await initBackend(backend);
  const weights = new TrainableWeights(graph);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const began = performance.now();
      const { loss } = trainStep(graph, weights, optimizer, batches[i % batches.length], 0.01, gammas, 1e-4);
      if (!Number.isFinite(loss)) throw new Error(`${backend}: the loss became ${loss}`);
      if (i >= warmup) times.push(performance.now() - began);
    }
  } finally {
    weights.dispose();
    optimizer.dispose();
  }
  return median(times);
}

await prepareTraining('wasm');
const wasmInfo = backendInfo();
const c = cost(graph);
console.log(`network ${graph.name}: ${c.params.toLocaleString('en-US')} params, ${(c.macs / 1e6).toFixed(2)}M MACs per sample; batch ${batchSize}, ${warmup} warm-up steps`);
const wasmMs = await measure('wasm', Number(values['wasm-steps']));
console.log(`wasm (${wasmInfo.variant}, ${wasmInfo.threads} thread(s)): median ${wasmMs.toFixed(1)} ms/step over ${values['wasm-steps']} steps`);
const cpuMs = await measure('cpu', Number(values['cpu-steps']));
console.log(`tfjs-backend-cpu: median ${cpuMs.toFixed(1)} ms/step over ${values['cpu-steps']} steps`);
console.log(`ratio cpu / wasm: ${(cpuMs / wasmMs).toFixed(1)}x`);
console.log(`tensors left: ${tf.memory().numTensors}`);
