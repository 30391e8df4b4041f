// Builds the two MNIST modules the demo page compares, from the sparsity-trained checkpoint
// examples/mnist/sparse.slim: the full network, and the network with 68% of its BN channels pruned
// (the ratio examples/mnist/README.md uses). Each directory gets model.js, its weights and
// report.html; the pruned one's report times it against the full one (--bench).
//
//   node --import tsx examples/web/build.ts [--out DIR]     # default: examples/web/models/
// The same as: slimc compile examples/mnist/sparse.slim --out DIR/full
//              slimc compile examples/mnist/sparse.slim --prune 0.68 --bench --out DIR/pruned
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/cli/load_model.ts';
import { compileGraph, writeCompiled } from '../../src/compiler/compile.ts';
import type { BenchOptions } from '../../src/report/latency.ts';

export const DEMO_PRUNE_RATIO = 0.68;
const CHECKPOINT = fileURLToPath(new URL('../mnist/sparse.slim', import.meta.url));
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('./models', import.meta.url));

/** Writes DIR/full and DIR/pruned (each checked against the interpreter); returns the two directories. */
export async function buildDemoModels(dir: string = DEFAULT_MODELS_DIR, opts: { bench?: boolean | BenchOptions } = {}): Promise<{ full: string; pruned: string }> {
  const graph = await loadModel(CHECKPOINT);
  const full = join(dir, 'full');
  const pruned = join(dir, 'pruned');
  await writeCompiled(compileGraph(graph), graph, full, { force: true });
  await writeCompiled(compileGraph(graph, { slim: { ratio: DEMO_PRUNE_RATIO } }), graph, pruned, { force: true, bench: opts.bench ?? true });
  return { full, pruned };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf('--out');
  const dir = outFlag >= 0 ? resolve(process.argv[outFlag + 1]) : DEFAULT_MODELS_DIR;
  const { full, pruned } = await buildDemoModels(dir);
  process.stdout.write(`wrote ${full} and ${pruned}; serve with node --import tsx examples/web/serve.ts\n`);
}
