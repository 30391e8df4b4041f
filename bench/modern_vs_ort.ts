// The small EfficientNet-style example (examples/efficientnet_small.ts: SiLU, squeeze-excite,
// depthwise convs), with sparsity-like BN weights, pruned by Network Slimming: its compiled module
// against the same compact graph exported as ONNX and run by onnxruntime-web (wasm), and against
// the compiled unpruned module. One process, one thread each, batch 1; the candidates alternate
// run by run, so machine load hits all of them alike. Prints the medians and the ratios.
//
//   node --import tsx bench/modern_vs_ort.ts [--ratio 0.5] [--runs 50] [--warmup 10]
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import efficientnetSmall from '../examples/efficientnet_small.ts';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../src/compiler/compile.ts';
import { exportOnnx } from '../src/frontends/onnx/index.ts';
import { cost } from '../src/ir/cost.ts';
import { Rng } from '../src/util/random.ts';
import { withSparsityLikeWeights } from '../test/helpers/sparsity_weights.ts';
import { median } from './timing.ts';

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ratio = flag('ratio', 0.5);
const runs = flag('runs', 50);
const warmup = flag('warmup', 10);

type Candidate = () => Promise<unknown>;

const graph = withSparsityLikeWeights(efficientnetSmall());
const rng = new Rng(11);
const x = rng.fill(32 * 32 * 3, () => rng.normal());
const scratch = join(import.meta.dirname, '..', 'tmp', `bench-modern-${process.pid}`);
await mkdir(scratch, { recursive: true });
try {
  const pruned = compileGraph(graph, { slim: { ratio } });
  const unpruned = compileGraph(graph);
  await writeCompiled(pruned, graph, join(scratch, 'pruned'), { check: false });
  await writeCompiled(unpruned, graph, join(scratch, 'unpruned'), { check: false });
  const prunedModel = await (await importEmittedModule(join(scratch, 'pruned'))).load({ threads: 1 });
  const unprunedModel = await (await importEmittedModule(join(scratch, 'unpruned'))).load({ threads: 1 });
  const runtime = (prunedModel as unknown as { info: { runtime: { name: string } } }).info.runtime.name;

  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(exportOnnx(pruned.compact), { executionProviders: ['wasm'] });
  const nchw = new Float32Array(x.length);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 32 * 32; i++) nchw[c * 32 * 32 + i] = x[i * 3 + c];
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nchw, [1, 3, 32, 32]) };

  const candidates: [string, Candidate][] = [
    ['slimc, pruned', () => prunedModel.predict(x)],
    ['onnxruntime-web, pruned', async () => Object.values(await session.run(feeds))[0].data],
    ['slimc, unpruned', () => unprunedModel.predict(x)],
  ];
  for (const [, c] of candidates) for (let i = 0; i < warmup; i++) await c();
  const samples = candidates.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (r + k) % candidates.length;
      const start = performance.now();
      await candidates[i][1]();
      samples[i].push(performance.now() - start);
    }
  }
  const [ours, theirs, full] = samples.map(median);
  const before = cost(graph);
  const after = cost(pruned.compact);
  console.log(
    `efficientnet_small at ratio ${ratio}: params ${before.params} -> ${after.params}, MACs ${before.macs} -> ${after.macs}; slimc runs its ${runtime} path`,
  );
  console.log(`batch 1, 1 thread, median of ${runs} runs after ${warmup} warm-up runs, candidates interleaved in one process:`);
  candidates.forEach(([name], i) => console.log(`  ${name}: ${median(samples[i]).toFixed(3)} ms`));
  console.log(`  onnxruntime-web / slimc (pruned): ${(theirs / ours).toFixed(2)}x; slimc unpruned / pruned: ${(full / ours).toFixed(2)}x`);
  prunedModel.dispose();
  unprunedModel.dispose();
  await session.release();
} finally {
  await rm(scratch, { recursive: true, force: true });
}
process.exit(0);
