// Speed of the compiler's passes: the slimming passes (selection + masking + channel analysis +
// pruning) and the lowering passes, on ResNet-164 and DenseNet-40 with sparsity-like weights and on
// generated networks of 2,500 to 10,000 nodes, to show that the time grows about linearly with
// graph size (µs per node stays flat). Median of several runs after a warm-up.
// Run: node --import tsx bench/slimming_speed.ts [--runs N]
import densenet40 from '../examples/densenet40.ts';
import resnet164 from '../examples/resnet164.ts';
import { add, batchNorm, concat, conv2d, dense, flatten, globalAvgPool, model, relu, type Value } from '../src/frontends/dsl.ts';
import type { Graph } from '../src/ir/types.ts';
import { lowerGraph } from '../src/passes/lower/index.ts';
import { slimGraph } from '../src/passes/slim.ts';
import { longNetwork } from '../test/helpers/long_network.ts';
import { withSparsityLikeWeights } from '../test/helpers/sparsity_weights.ts';
import { median } from './timing.ts';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

/** About `nodes` nodes: conv-BN-ReLU units, a residual add every 2 units, a concat every 8. */
function generated(nodes: number): Graph {
  return model(`generated${nodes}`, { input: [8, 8, 8] }, (x) => {
    let h: Value<4> = x;
    let count = 1;
    for (let unit = 0; count < nodes - 6; unit++) {
      const branch = relu(batchNorm(conv2d(relu(batchNorm(conv2d(h, 8, { kernel: 1 }))), 8, { kernel: 1 })));
      h = unit % 4 === 3 ? conv2d(concat(h, branch), 8, { kernel: 1 }) : add(branch, h);
      count += unit % 4 === 3 ? 8 : 7;
    }
    return dense(flatten(globalAvgPool(h)), 10);
  });
}

function time(run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

function table(title: string, cases: readonly [string, Graph][], run: (g: Graph) => void): void {
  const rows = ['| graph | nodes | ms (median) | µs per node |', '|---|---:|---:|---:|'];
  for (const [name, graph] of cases) {
    const ms = time(() => run(graph));
    rows.push(`| ${name} | ${graph.nodes.length} | ${ms.toFixed(1)} | ${((1000 * ms) / graph.nodes.length).toFixed(1)} |`);
    process.stderr.write(`${title}: ${name}: ${ms.toFixed(1)} ms\n`);
  }
  console.log(`${title}, median of ${RUNS} runs:\n\n${rows.join('\n')}\n`);
}

const sparseResnet = withSparsityLikeWeights(resnet164());
table(
  'Slimming passes at ratio 0.5 (selection, masking, analysis, pruning; verifier off)',
  [
    ['resnet164', sparseResnet],
    ['densenet40', withSparsityLikeWeights(densenet40())],
    ...[2500, 5000, 10000].map((n): [string, Graph] => [`generated ${n}`, withSparsityLikeWeights(generated(n))]),
  ],
  (g) => slimGraph(g, { ratio: 0.5 }, { verify: false }),
);
table(
  'Lowering passes (all seven, as compile runs them after pruning; verifier off)',
  [
    ['resnet164', resnet164()],
    ['resnet164 pruned at 0.5', slimGraph(sparseResnet, { ratio: 0.5 }).compact],
    ...[2500, 5000, 10000].map((n): [string, Graph] => [`pre-activation ${n}`, longNetwork(n)]),
  ],
  (g) => lowerGraph(g),
);
