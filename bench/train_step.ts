// Speed of one training step (forward, backward, sparsity subgradient, SGD update, BN running
// statistics) on tfjs-backend-wasm with slimc's kernels, against PyTorch on CPU running the same
// network, batch and thread count (bench/train_step_torch.py, driven over a pipe).
//
//   npx tsx bench/train_step.ts [--batch 32] [--rounds 10] [--steps 5] [--warmup 3]
//                               [--python /usr/bin/python3] [--cpu-steps 0] [--profile]
//
// slimc and PyTorch take turns: each round runs --steps slimc steps, then --steps PyTorch steps,
// so both see the same machine load; the ratio is of the medians over all rounds. Both wall time
// and process CPU time are timed: on a loaded machine the CPU time is the steadier figure. When Python
// with torch is missing it prints the last recorded figure (bench/train_step.json), which every
// run with PyTorch rewrites. --cpu-steps N also times tfjs-backend-cpu; --profile prints the
// time per tfjs kernel of one step. Neither tests nor CI run this.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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
import { median } from './timing.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '10' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'cpu-steps': { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
  },
});
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);
const stepsPerRound = Number(values.steps);
const warmup = Number(values.warmup);
const RECORD = fileURLToPath(new URL('train_step.json', import.meta.url));
const TORCH_SCRIPT = fileURLToPath(new URL('train_step_torch.py', import.meta.url));

const graph = mnistVgg();
const data = loadMnist();
const batches = Array.from({ length: 8 }, (_, k) =>
  gatherBatch(
    data.train,
    Array.from({ length: batchSize }, (_, i) => (k * 997 + i * 61) % data.train.count),
  ),
);
const gammas = prunableGammas(graph);

/** Wall and process CPU milliseconds per step. */
interface Times {
  readonly ms: number[];
  readonly cpuMs: number[];
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A slimc trainer on the current backend: run(n) times n steps. */
function slimcTrainer() {
  const weights = new TrainableWeights(graph);
  const optimizer = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
  let done = 0;
  return {
    run(n: number): Times {
      const times: Times = { ms: [], cpuMs: [] };
      for (let i = 0; i < n; i++) {
        const began = performance.now();
        const beganCpu = cpuMs();
        const { loss } = trainStep(graph, weights, optimizer, batches[done++ % batches.length], 0.01, gammas, 1e-4);
        if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss}`);
        times.ms.push(performance.now() - began);
        times.cpuMs.push(cpuMs() - beganCpu);
      }
      return times;
    },
    dispose() {
      weights.dispose();
      optimizer.dispose();
    },
  };
}

/** bench/train_step_torch.py in a child process; undefined (with the reason) when it cannot start. */
async function torchTrainer(): Promise<{ info: string; run: (n: number) => Promise<Times>; close: () => void } | string> {
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(values.python, [TORCH_SCRIPT, '--batch', String(batchSize), '--threads', '1'], { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: Interface = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const failed = new Promise<string>((resolve) => {
    child.on('error', (e) => resolve(e.message));
    child.on('exit', (code) => resolve(`${values.python} exited with code ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
  });
  const next = async () => {
    const r = await Promise.race([iterator.next(), failed]);
    if (typeof r === 'string') throw new Error(r);
    if (r.done) throw new Error(`PyTorch stopped: ${stderr}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  try {
    const header = await next();
    return {
      info: `PyTorch ${String(header.torch)} on CPU, ${String(header.threads)} thread(s), ${String(header.params)} params`,
      run: async (n) => {
        child.stdin.write(`STEPS ${n}\n`);
        const answer = await next();
        if (!Array.isArray(answer.ms) || !Array.isArray(answer.cpuMs)) throw new Error(`PyTorch answered ${JSON.stringify(answer)}`);
        return { ms: answer.ms as number[], cpuMs: answer.cpuMs as number[] };
      },
      close: () => child.stdin.end(),
    };
  } catch (e) {
    child.kill();
    return e instanceof Error ? e.message : String(e);
  }
}

/** Time per kernel over one profiled step (engine bookkeeping included in each kernel's time). */
async function profileStep(): Promise<void> {
  const trainer = slimcTrainer();
  try {
    trainer.run(warmup);
    let wall = 0;
    const info = await tf.profile(() => {
      wall = trainer.run(1).ms[0];
    });
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls++;
      byKernel.set(k.name, e);
    }
    const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
    console.log(
      `profiled step: ${wall.toFixed(1)} ms wall (profiling adds overhead), ${info.kernels.length} kernel calls, ${total.toFixed(1)} ms inside kernels`,
    );
    for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
      console.log(`  ${name.padEnd(28)} ${e.ms.toFixed(2).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);
    }
  } finally {
    trainer.dispose();
  }
}

interface StepRecord {
  readonly date: string;
  readonly machine: { readonly cpus: number; readonly loadavg: readonly number[] };
  readonly batch: number;
  readonly slimcMs: number;
  readonly torchMs: number;
  readonly ratio: number;
  readonly slimcCpuMs: number;
  readonly torchCpuMs: number;
  readonly cpuRatio: number;
  readonly torch: string;
  readonly steps: number;
}

await prepareTraining('wasm');
const wasmInfo = backendInfo();
const c = cost(graph);
console.log(
  `network ${graph.name}: ${c.params.toLocaleString('en-US')} params, ${(c.macs / 1e6).toFixed(2)}M MACs per sample; batch ${batchSize}, ${warmup} warm-up steps each`,
);
if (values.profile) await profileStep();

const slimc = slimcTrainer();
const torch = await torchTrainer();
const slimcTimes: Times = { ms: [], cpuMs: [] };
const torchTimes: Times = { ms: [], cpuMs: [] };
const append = (to: Times, from: Times) => {
  to.ms.push(...from.ms);
  to.cpuMs.push(...from.cpuMs);
};
try {
  slimc.run(warmup);
  if (typeof torch !== 'string') await torch.run(warmup);
  for (let r = 0; r < rounds; r++) {
    append(slimcTimes, slimc.run(stepsPerRound));
    if (typeof torch !== 'string') append(torchTimes, await torch.run(stepsPerRound));
  }
} finally {
  slimc.dispose();
  if (typeof torch !== 'string') torch.close();
}
const slimcMs = median(slimcTimes.ms);
const slimcCpuMs = median(slimcTimes.cpuMs);
const steps = slimcTimes.ms.length;
console.log(
  `slimc on ${wasmInfo.variant} (${wasmInfo.threads} thread(s)): median ${slimcMs.toFixed(1)} ms/step wall, ${slimcCpuMs.toFixed(1)} ms CPU, over ${steps} steps`,
);
if (typeof torch !== 'string') {
  const torchMs = median(torchTimes.ms);
  const torchCpuMs = median(torchTimes.cpuMs);
  console.log(
    `${torch.info}: median ${torchMs.toFixed(1)} ms/step wall, ${torchCpuMs.toFixed(1)} ms CPU, over ${steps} steps (alternating rounds of ${stepsPerRound})`,
  );
  console.log(
    `ratio slimc / PyTorch: ${(slimcMs / torchMs).toFixed(2)}x wall, ${(slimcCpuMs / torchCpuMs).toFixed(2)}x CPU ` +
      `(load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`,
  );
  const record: StepRecord = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadavg: loadavg().map((l) => Number(l.toFixed(2))) },
    batch: batchSize,
    slimcMs: Number(slimcMs.toFixed(1)),
    torchMs: Number(torchMs.toFixed(1)),
    ratio: Number((slimcMs / torchMs).toFixed(2)),
    slimcCpuMs: Number(slimcCpuMs.toFixed(1)),
    torchCpuMs: Number(torchCpuMs.toFixed(1)),
    cpuRatio: Number((slimcCpuMs / torchCpuMs).toFixed(2)),
    torch: torch.info,
    steps,
  };
  if (batchSize === 32) await writeFile(RECORD, `${JSON.stringify(record, null, 2)}\n`);
} else {
  console.log(`PyTorch not measured (${torch})`);
  try {
    const last = JSON.parse(await readFile(RECORD, 'utf8')) as StepRecord;
    console.log(
      `last recorded (${last.date.slice(0, 10)}, batch ${last.batch}, load average ${last.machine.loadavg[0]} on ${last.machine.cpus} cores): ` +
        `slimc ${last.slimcMs} ms/step, ${last.torch} ${last.torchMs} ms/step: ratio ${last.ratio}x wall, ${last.cpuRatio}x CPU; ` +
        `this run's slimc / recorded PyTorch: ${(slimcMs / last.torchMs).toFixed(2)}x wall`,
    );
  } catch {
    console.log('no recorded PyTorch figure (bench/train_step.json)');
  }
}

const cpuSteps = Number(values['cpu-steps']);
if (cpuSteps > 0) {
  await initBackend('cpu' satisfies BackendName);
  const cpu = slimcTrainer();
  try {
    cpu.run(1);
    const cpuBackendMs = median(cpu.run(cpuSteps).ms);
    console.log(
      `tfjs-backend-cpu: median ${cpuBackendMs.toFixed(1)} ms/step over ${cpuSteps} steps; cpu / wasm ${(cpuBackendMs / slimcMs).toFixed(1)}x`,
    );
  } finally {
    cpu.dispose();
  }
}
console.log(`tensors left: ${tf.memory().numTensors}`);
