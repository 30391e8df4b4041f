// One benchmark process: one network, one thread setting. The wasm backend starts once per
// process, so threads off and on are separate processes; everything compared within a row
// (pruned module, unpruned module, interpreter, onnxruntime-web) runs in this same process.
// Two schedules: `interleaved` (default) runs one inference of each candidate per round, so that
// machine noise hits all alike, but each run finds the caches full of the other candidates'
// weights; `alone` times each candidate in blocks of consecutive runs (its caches warm, as for
// an app that calls one model repeatedly), the blocks rotating between candidates so that drift
// still hits all alike.
//
//   node --import tsx bench/latency_worker.ts --net mobilenet --threads 1 --ratios 0,0.4,0.7 --runs 30 --warmup 5 [--schedule alone]
// Prints one JSON object (WorkerResult) on stdout.
import { mkdir, rm } from 'node:fs/promises';
import { parseSchedule, type Schedule } from './schedule.ts';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../src/compiler/compile.ts';
import { exportOnnx } from '../src/frontends/onnx/index.ts';
import { cost } from '../src/ir/cost.ts';
import { graphInputs } from '../src/ir/node.ts';
import { runGraph, WeightTensors } from '../src/interp/index.ts';
import { benchNetwork, NETWORKS, type NetworkName } from './networks.ts';
import { median } from './timing.ts';

export interface Timing {
  readonly medianMs: number;
  readonly runs: number;
}

export interface RatioResult {
  readonly ratio: number;
  readonly params: number;
  readonly macs: number;
  readonly compileMs: number;
  readonly moduleBytes: number;
  /** The plan's arena for one sample. */
  readonly peakActivationBytes: number;
  readonly pruned: Timing;
  /** The unpruned module and the interpreter, timed in the same rounds as this ratio's module. */
  readonly unpruned: Timing;
  readonly interpreter: Timing;
  readonly ort: Timing | null;
}

export interface WorkerResult {
  readonly net: NetworkName;
  readonly threadsRequested: number;
  readonly backend: { readonly variant: string; readonly threads: number };
  /** Whether slimc's conv kernels ran with fused multiply-adds (info.runtime.fma). */
  readonly fma: boolean;
  readonly ortThreads: number | null;
  /** Medians over the samples of every ratio's rounds. */
  readonly unpruned: { readonly params: number; readonly macs: number; readonly compiled: Timing; readonly interpreter: Timing };
  readonly ratios: readonly RatioResult[];
}

interface Flags {
  readonly net: NetworkName;
  readonly threads: number;
  readonly ratios: number[];
  readonly runs: number;
  readonly warmup: number;
  readonly ort: boolean;
  readonly schedule: Schedule;
}

function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const net = value('net', 'mobilenet') as NetworkName;
  if (!(net in NETWORKS)) throw new Error(`unknown network ${net}; one of ${Object.keys(NETWORKS).join(', ')}`);
  return {
    net,
    threads: Number(value('threads', '1')),
    ratios: value('ratios', '0,0.4,0.7').split(',').map(Number),
    runs: Math.max(1, Number(value('runs', '30'))),
    warmup: Number(value('warmup', '5')),
    ort: !argv.includes('--no-ort'),
    schedule: parseSchedule(value('schedule', 'interleaved')),
  };
}

/** Something to time: one batch-1 inference, awaited to the output data. */
type Candidate = () => Promise<unknown>;

function timing(samples: readonly number[]): Timing {
  return { medianMs: median(samples), runs: samples.length };
}

/** Warms each candidate up, then times them in rounds (one run of each per round): raw samples. */
async function timeInterleaved(candidates: readonly Candidate[], runs: number, warmup: number): Promise<number[][]> {
  for (const c of candidates) for (let i = 0; i < warmup; i++) await c();
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    // Rotating the order each round: no candidate always runs right after the same other one.
    for (let k = 0; k < candidates.length; k++) {
      const i = (r + k) % candidates.length;
      const start = performance.now();
      await candidates[i]();
      samples[i].push(performance.now() - start);
    }
  }
  return samples;
}

/** Blocks per candidate in the `alone` schedule. */
const ALONE_BLOCKS = 5;

/**
 * Warms each candidate up, then times each in ALONE_BLOCKS blocks of consecutive runs (the first
 * run of a block untimed: it refills the caches the previous block's candidate emptied), the
 * order of the candidates rotating block by block: raw samples.
 */
async function timeAlone(candidates: readonly Candidate[], runs: number, warmup: number): Promise<number[][]> {
  for (const c of candidates) for (let i = 0; i < warmup; i++) await c();
  const samples = candidates.map(() => [] as number[]);
  const perBlock = Math.ceil(runs / ALONE_BLOCKS);
  for (let b = 0; b < ALONE_BLOCKS; b++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (b + k) % candidates.length;
      await candidates[i]();
      for (let r = 0; r < perBlock; r++) {
        const start = performance.now();
        await candidates[i]();
        samples[i].push(performance.now() - start);
      }
    }
  }
  return samples;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const { graph, x } = benchNetwork(flags.net);
  const [input] = graphInputs(graph);
  const scratch = join(import.meta.dirname, '..', 'tmp', `bench-${process.pid}`);
  const progress = (line: string) => process.stderr.write(`[${flags.net} threads=${flags.threads}] ${line}\n`);

  await mkdir(scratch, { recursive: true });
  try {
    // The compiled unpruned module, and the backend it starts (with the requested threads).
    const unprunedCompiled = compileGraph(graph);
    await writeCompiled(unprunedCompiled, graph, join(scratch, 'unpruned'), { check: false });
    const unpruned = await (await importEmittedModule(join(scratch, 'unpruned'))).load({ threads: flags.threads });
    const { backend, runtime } = (
      unpruned as unknown as { info: { backend: { variant: string; threads: number }; runtime: { fma?: boolean } } }
    ).info;
    const fma = runtime.fma === true;
    progress(`backend ${backend.variant}, ${backend.threads} thread(s)${fma ? ', fused multiply-adds' : ''}`);

    // The reference interpreter on the unpruned graph, weights resident as for the module.
    const weights = new WeightTensors(graph.weights);
    const interpreter: Candidate = async () => {
      const t = tf.tensor(x, [1, ...input.type.shape.slice(1)]);
      const [y] = runGraph(graph, { [input.id]: t }, weights);
      await y.data();
      y.dispose();
      t.dispose();
    };
    const unprunedRun: Candidate = () => unpruned.predict(x);

    // onnxruntime-web (wasm) with as many threads as this process gives tfjs.
    ort.env.wasm.numThreads = flags.threads;

    const ratios: RatioResult[] = [];
    const pooled: { compiled: number[]; interpreter: number[] } = { compiled: [], interpreter: [] };
    for (const ratio of flags.ratios) {
      progress(`ratio ${ratio}: compiling`);
      const start = performance.now();
      const compiled = compileGraph(graph, { slim: { ratio } });
      const compileMs = performance.now() - start;
      const dir = join(scratch, `ratio-${ratio}`);
      await writeCompiled(compiled, graph, dir, { check: false });
      const model = await (await importEmittedModule(dir)).load();
      const candidates: Candidate[] = [() => model.predict(x), unprunedRun, interpreter];
      let session: ort.InferenceSession | null = null;
      if (flags.ort) {
        session = await ort.InferenceSession.create(exportOnnx(compiled.compact), { executionProviders: ['wasm'] });
        const [c, h, w] = [input.type.shape[3], input.type.shape[1], input.type.shape[2]];
        const nchw = new Float32Array(x.length);
        for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) nchw[k * h * w + i] = x[i * c + k];
        const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nchw, [1, c, h, w]) };
        const s = session;
        candidates.push(async () => {
          const out = await s.run(feeds);
          return Object.values(out)[0].data;
        });
      }
      progress(`ratio ${ratio}: timing ${candidates.length} candidates, ${flags.runs} runs each (${flags.schedule})`);
      const samples = await (flags.schedule === 'alone' ? timeAlone : timeInterleaved)(candidates, flags.runs, flags.warmup);
      pooled.compiled.push(...samples[1]);
      pooled.interpreter.push(...samples[2]);
      const c = cost(compiled.compact);
      ratios.push({
        ratio,
        params: c.params,
        macs: c.macs,
        compileMs,
        moduleBytes: new TextEncoder().encode(compiled.module.js).length,
        peakActivationBytes: compiled.module.info.peakActivationBytes,
        pruned: timing(samples[0]),
        unpruned: timing(samples[1]),
        interpreter: timing(samples[2]),
        ort: flags.ort ? timing(samples[3]) : null,
      });
      model.dispose();
      await session?.release();
    }
    const base = cost(graph);
    const result: WorkerResult = {
      net: flags.net,
      threadsRequested: flags.threads,
      backend,
      fma,
      ortThreads: flags.ort ? flags.threads : null,
      unpruned: { params: base.params, macs: base.macs, compiled: timing(pooled.compiled), interpreter: timing(pooled.interpreter) },
      ratios,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    unpruned.dispose();
    weights.dispose();
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
// Pool workers are unref'd; onnxruntime's may not be: leave once the result is out.
process.exit(0);
