// Network Slimming end to end on MNIST (the `mnist` package's 10,000 digits, fixed 8,000/2,000
// split): baseline training, sparsity training, pruning at a ratio read off the |gamma|
// distribution, fine-tuning; a table of test accuracy, params and MACs at each stage, and the
// pictures (|gamma| histograms, kept channels per layer).
//
//   npx tsx examples/mnist/run.ts [--epochs 6] [--finetune-epochs 3] [--sparsity 5e-3]
//                                 [--ratio R] [--out examples/mnist/out] [--backend wasm]
//                                 [--save-checkpoint]
//
// --save-checkpoint also writes the sparsity-trained model beside this file
// (sparse.slim + sparse.weights.bin), the small checkpoint the repository ships.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importEmittedModule } from '../../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../../src/compiler/compile.ts';
import { cost } from '../../src/ir/cost.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import type { Graph } from '../../src/ir/types.ts';
import { writeWeightsFile } from '../../src/ir/weights_file_io.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { trainConfig } from '../../src/train/config.ts';
import { evaluate } from '../../src/train/evaluate.ts';
import { loadMnist } from '../../src/train/mnist.ts';
import { absGammas, gammaHistogramSvg, keptChannelsSvg } from '../../src/train/plots.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { finetune, ratioFromGammas } from '../../src/train/slimming.ts';
import { train, type StepReport } from '../../src/train/trainer.ts';
import type { EpochRecord } from '../../src/train/checkpoint.ts';
import mnistVgg from './model.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string', default: '6' },
    'finetune-epochs': { type: 'string', default: '3' },
    sparsity: { type: 'string', default: '5e-3' },
    ratio: { type: 'string' },
    out: { type: 'string', default: join(here, 'out') },
    backend: { type: 'string', default: 'wasm' },
    'save-checkpoint': { type: 'boolean', default: false },
  },
});

const backend = args.backend === 'cpu' ? 'cpu' : 'wasm';
const info = await prepareTraining(backend);
const data = loadMnist();
const out = args.out;
await mkdir(out, { recursive: true });
const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)}s] ${line}`);
log(`backend ${info.variant}, ${info.threads} thread(s); MNIST ${data.train.count} train / ${data.test.count} test`);

const epochs = Number(args.epochs);
const hooks = (phase: string) => ({
  checkpointDir: join(out, phase),
  phase,
  onStep: (s: StepReport) => {
    if (s.stepInEpoch % 50 === 0)
      log(
        `${phase} epoch ${s.epoch + 1}/${s.epochs} step ${s.stepInEpoch}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} acc ${(100 * s.accuracy).toFixed(1)}% ${s.stepsPerSecond.toFixed(2)} steps/s`,
      );
  },
  onEpoch: (r: EpochRecord) =>
    log(
      `${phase} epoch ${r.epoch}: lr ${r.lr} train loss ${r.trainLoss.toFixed(4)} acc ${(100 * r.trainAccuracy).toFixed(2)}%, test acc ${(100 * r.testAccuracy).toFixed(2)}% (${r.seconds.toFixed(0)}s)`,
    ),
});

const baseline = await train(mnistVgg(), data, trainConfig({ epochs }), hooks('baseline'));
const sparse = await train(mnistVgg(), data, trainConfig({ epochs, sparsity: Number(args.sparsity) }), hooks('sparsity'));
const gammas = absGammas(sparse.graph);
const ratio = args.ratio !== undefined ? Number(args.ratio) : ratioFromGammas(gammas);
log(`pruning ratio ${ratio.toFixed(3)} (${args.ratio !== undefined ? 'given' : 'widest gap of the sorted |gamma|'})`);
const slim = slimGraph(sparse.graph, { ratio });
const tuned = await finetune(slim.compact, data, trainConfig({ epochs: Number(args['finetune-epochs']) }), hooks('finetune'));

interface Row {
  readonly stage: string;
  readonly graph: Graph;
}
const rows: Row[] = [
  { stage: 'baseline', graph: baseline.graph },
  { stage: `sparsity-trained (lambda ${args.sparsity})`, graph: sparse.graph },
  { stage: `pruned ${(100 * ratio).toFixed(0)}% of channels, no fine-tuning`, graph: slim.compact },
  { stage: 'pruned + fine-tuned', graph: tuned.graph },
];
/** Median batch-1 latency of the compiled module (slimc compile, no further pruning), in ms. */
async function compiledLatency(graph: Graph, dir: string, runs = 200, warmup = 20): Promise<number> {
  await mkdir(dirname(dir), { recursive: true });
  await writeCompiled(compileGraph(graph), graph, dir, { check: false });
  const module = await (await importEmittedModule(dir)).load();
  const x = data.test.images.subarray(0, 28 * 28);
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const began = performance.now();
    await module.predict(x);
    if (i >= warmup) times.push(performance.now() - began);
  }
  module.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const baseCost = cost(baseline.graph);
const baseLatency = await compiledLatency(baseline.graph, join(out, 'compiled', 'baseline'));
const table = ['| stage | test accuracy | params | MACs | compiled latency (batch 1) |', '| --- | ---: | ---: | ---: | ---: |'];
for (const [i, { stage, graph }] of rows.entries()) {
  const c = cost(graph);
  const acc = evaluate(graph, data.test).accuracy;
  const latency = i === 0 ? baseLatency : await compiledLatency(graph, join(out, 'compiled', `stage${i}`));
  const rel = (v: number, base: number) => (v === base ? '' : ` (${(base / v).toFixed(2)}x smaller)`);
  const speed = i === 0 ? '' : ` (${(baseLatency / latency).toFixed(2)}x)`;
  table.push(
    `| ${stage} | ${(100 * acc).toFixed(2)}% | ${c.params.toLocaleString('en-US')}${rel(c.params, baseCost.params)} | ` +
      `${c.macs.toLocaleString('en-US')}${rel(c.macs, baseCost.macs)} | ${latency.toFixed(3)} ms${speed} |`,
  );
}
const minutes = ((performance.now() - began) / 60000).toFixed(1);
const report = [
  `# Network Slimming on MNIST`,
  '',
  `Epochs ${epochs} (baseline and sparsity), ${args['finetune-epochs']} fine-tuning; ${info.variant} backend; ${minutes} min in total.`,
  `MACs are multiply-accumulates per sample (1 MAC = 2 FLOPs); params count conv/dense weights and biases and BN gamma/beta.`,
  `Latency: the module slimc compile emits for each stage's graph, one sample, median of 200 runs after 20 warm-up runs, in this process (speed-up against the baseline's module).`,
  '',
  ...table,
  '',
  `Kept channels: ${slim.report.channels.map((c) => `${c.name} ${c.after}/${c.before}`).join(', ')}`,
  '',
].join('\n');
await writeFile(join(out, 'results.md'), report);
await writeFile(
  join(out, 'gamma.svg'),
  gammaHistogramSvg([
    { label: 'baseline', values: absGammas(baseline.graph) },
    { label: `sparsity training (lambda ${args.sparsity})`, values: gammas },
  ]),
);
await writeFile(
  join(out, 'kept.svg'),
  keptChannelsSvg(slim.report.channels.map((c) => ({ name: c.name, before: c.before, after: c.after }))),
);
if (args['save-checkpoint']) {
  await writeFile(join(here, 'sparse.slim'), printGraph(sparse.graph));
  await writeWeightsFile(join(here, 'sparse.weights.bin'), sparse.graph.weights);
  log(`wrote ${join(here, 'sparse.slim')} and sparse.weights.bin`);
}
console.log(`\n${report}`);
log(`results, gamma.svg and kept.svg in ${out}`);
