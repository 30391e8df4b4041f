// Per-op overhead of the plan against the engine path (engine().runKernel per node), measured
// on the case: a 1x1 conv on [1,8,8,16] -> 16 channels with bias and relu. Two modules
// of the same layer, chained 1 and 65 times, each loaded twice (plan and engine) in this one
// process and timed interleaved; per op = (time of 65 - time of 1) / 64, which leaves out what
// a predict costs once (input checks, copies in and out).
//
//   node --import tsx bench/op_overhead.ts [--runs 200] [--warmup 20]
// Prints one JSON object (OpOverhead) on stdout.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../src/compiler/compile.ts';
import { conv2d, model, relu, type Value } from '../src/frontends/dsl.ts';
import type { Graph } from '../src/ir/types.ts';
import { Rng } from '../src/util/random.ts';
import { median } from './timing.ts';

export interface OpOverhead {
  /** Microseconds per 1x1 conv [1,8,8,16] -> 16 with bias and relu, kernel included. */
  readonly planUsPerOp: number;
  readonly engineUsPerOp: number;
  readonly runs: number;
  readonly layers: number;
}

const LAYERS = 65;

function chain(layers: number): Graph {
  return model(`conv1x1-chain-${layers}`, { input: [8, 8, 16] }, (x) => {
    let y: Value<4> = x;
    for (let i = 0; i < layers; i++) y = relu(conv2d(y, 16, { kernel: 1, bias: true, name: `conv${i}` }));
    return y;
  });
}

interface Predictor {
  predict(x: Float32Array, opts: { into: Float32Array }): Promise<unknown>;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string, fallback: number) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
  const runs = flag('runs', 200);
  const warmup = flag('warmup', 20);
  const scratch = join(import.meta.dirname, '..', 'tmp', `op-overhead-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  try {
    const models: Record<string, Predictor> = {};
    for (const layers of [1, LAYERS]) {
      const graph = chain(layers);
      const dir = join(scratch, String(layers));
      await writeCompiled(compileGraph(graph), graph, dir, { check: false });
      const exports = (await importEmittedModule(dir)) as unknown as {
        load(o: object): Promise<Predictor & { info: { runtime: { name: string } } }>;
      };
      for (const runtime of ['plan', 'engine']) {
        const m = await exports.load({ runtime });
        if (m.info.runtime.name !== runtime) throw new Error(`expected the ${runtime} runtime, got ${m.info.runtime.name}`);
        models[`${runtime}-${layers}`] = m;
      }
    }
    const rng = new Rng(3);
    const x = rng.fill(8 * 8 * 16, () => rng.normal());
    const into = new Float32Array(8 * 8 * 16);
    const names = Object.keys(models);
    for (const name of names) for (let i = 0; i < warmup; i++) await models[name].predict(x, { into });
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(r + k) % names.length];
        const start = performance.now();
        await models[name].predict(x, { into });
        samples[name].push(performance.now() - start);
      }
    }
    const perOp = (runtime: string) => ((median(samples[`${runtime}-${LAYERS}`]) - median(samples[`${runtime}-1`])) / (LAYERS - 1)) * 1000;
    const result: OpOverhead = { planUsPerOp: perOp('plan'), engineUsPerOp: perOp('engine'), runs, layers: LAYERS };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
