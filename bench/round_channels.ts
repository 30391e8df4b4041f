// What --round-channels costs: each network pruned at each ratio twice, as selected and with every
// layer's kept count rounded up to a multiple of N, both modules loaded in one process and their
// predicts alternated run by run (which one goes first alternates too). Prints the parameters and
// MACs of both and the median of the per-round time ratios (rounded over plain: 1.00 means the
// extra channels ran for free).
//
//   npm run bench:round                                   # the four networks at 0.4 and 0.7, N = 4
//   npm run bench:round -- --round 8 --nets resnet164 --runs 100
//
// One thread, batch 1, after 10 warm-up predicts of each.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importEmittedModule } from '../src/codegen/check.ts';
import { compileGraph, writeCompiled, type Compiled } from '../src/compiler/compile.ts';
import { cost } from '../src/ir/cost.ts';
import { benchNetwork, NETWORKS } from './networks.ts';
import { alternate, median, type Predictor } from './timing.ts';

interface Loaded extends Predictor {
  dispose(): void;
}

async function load(compiled: Compiled, graph: Parameters<typeof writeCompiled>[1], dir: string): Promise<Loaded> {
  await writeCompiled(compiled, graph, dir, { check: false });
  const exports = (await importEmittedModule(dir)) as unknown as { load(opts: object): Promise<Loaded> };
  return exports.load({ threads: 1 });
}

async function compare(net: string, ratio: number, round: number, dir: string, runs: number) {
  const { graph, x } = benchNetwork(net);
  const plain = compileGraph(graph, { slim: { ratio } });
  const rounded = compileGraph(graph, { slim: { ratio, roundChannels: round } });
  const models = [await load(plain, graph, join(dir, 'plain')), await load(rounded, graph, join(dir, 'rounded'))];
  try {
    const times = await alternate(models[1], models[0], x, runs);
    const [a, b] = [cost(plain.compact), cost(rounded.compact)];
    return { params: [a.params, b.params], macs: [a.macs, b.macs], ms: [median(times.b), median(times.a)], ratio: times.ratio };
  } finally {
    for (const m of models) m.dispose();
  }
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      nets: { type: 'string', default: Object.keys(NETWORKS).join(',') },
      ratios: { type: 'string', default: '0.4,0.7' },
      round: { type: 'string', default: '4' },
      runs: { type: 'string', default: '40' },
    },
  });
  const [runs, round] = [Number(a.runs), Number(a.round)];
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${a.runs}`);
  const scratch = join(import.meta.dirname, '..', 'tmp', `round-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  try {
    console.log(`--round-channels ${round}; batch 1, one thread, ${runs} alternating rounds; time: median of rounded / plain per round\n`);
    console.log('| network | pruning ratio | params plain -> rounded | MACs plain -> rounded | plain ms | rounded ms | time |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const net of a.nets.split(','))
      for (const ratio of a.ratios.split(',').map(Number)) {
        const r = await compare(net, ratio, round, join(scratch, `${net}-${ratio}`), runs);
        const more = (p: readonly number[]) => `+${((100 * (p[1] - p[0])) / p[0]).toFixed(1)}%`;
        console.log(
          `| ${net} | ${ratio} | ${more(r.params)} | ${more(r.macs)} | ${r.ms[0].toFixed(2)} | ${r.ms[1].toFixed(2)} | ${r.ratio.toFixed(2)}x |`,
        );
      }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
