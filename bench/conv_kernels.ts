// slimc's convolution kernels against XNNPACK's, on whole networks: each network compiled once
// (unpruned and pruned), the module loaded twice in one process, with load({ convolutions:
// 'xnnpack' }) and with 'slimc', and predicts alternated run by run (which one goes first
// alternates too). Prints, per module, both medians and the median of the per-round ratios
// (XNNPACK's time over slimc's: above 1, slimc's kernels are faster).
//
//   npm run bench:convs                                  # the four networks, unpruned, 0.4 and 0.7
//   npm run bench:convs -- --nets densenet40 --ratios 0.7 --runs 100
//
// One thread (the plain SIMD build), batch 1, after 10 warm-up predicts of each.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../src/compiler/compile.ts';
import { benchNetwork, NETWORKS } from './networks.ts';
import { alternate, median, type Predictor } from './timing.ts';

interface Loaded extends Predictor {
  dispose(): void;
  info: { runtime: { convolutions?: string } };
}

/** Median milliseconds of each, and the median of the per-round ratios. */
async function compare(net: string, ratio: number, dir: string, runs: number): Promise<{ xnnpack: number; slimc: number; ratio: number }> {
  const { graph, x } = benchNetwork(net);
  const compiled = compileGraph(graph, ratio > 0 ? { slim: { ratio } } : {});
  await writeCompiled(compiled, graph, dir, { check: false });
  const exports = (await importEmittedModule(dir)) as unknown as { load(opts: object): Promise<Loaded> };
  const xnnpack = await exports.load({ convolutions: 'xnnpack' });
  const slimc = await exports.load({ convolutions: 'slimc' });
  try {
    if (slimc.info.runtime.convolutions !== 'slimc') throw new Error(`${net}: slimc's kernels did not load`);
    const times = await alternate(xnnpack, slimc, x, runs);
    return { xnnpack: median(times.a), slimc: median(times.b), ratio: times.ratio };
  } finally {
    xnnpack.dispose();
    slimc.dispose();
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      nets: { type: 'string', default: Object.keys(NETWORKS).join(',') },
      ratios: { type: 'string', default: '0,0.4,0.7' },
      runs: { type: 'string', default: '40' },
    },
  });
  const runs = Number(a.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${a.runs}`);
  const scratch = join(import.meta.dirname, '..', 'tmp', `convs-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  try {
    console.log(`batch 1, one thread, ${runs} alternating rounds; ratio: median of XNNPACK's time / slimc's per round\n`);
    console.log('| network | pruning ratio | XNNPACK ms | slimc ms | ratio |');
    console.log('|---|---:|---:|---:|---:|');
    for (const net of a.nets.split(','))
      for (const ratio of a.ratios.split(',').map(Number)) {
        const r = await compare(net, ratio, join(scratch, `${net}-${ratio}`), runs);
        console.log(
          `| ${net} | ${ratio > 0 ? ratio : 'unpruned'} | ${r.xnnpack.toFixed(2)} | ${r.slimc.toFixed(2)} | ${r.ratio.toFixed(2)}x |`,
        );
      }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
