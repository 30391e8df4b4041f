// The networks the latency benchmark runs: the paper's CIFAR models and the MobileNet-style net.
import densenet40 from '../examples/densenet40.ts';
import mobilenet from '../examples/mobilenet.ts';
import resnet164 from '../examples/resnet164.ts';
import vgg19 from '../examples/vgg19.ts';
import { graphInputs } from '../src/ir/node.ts';
import type { Graph } from '../src/ir/types.ts';
import { Rng } from '../src/util/random.ts';
import { withSparsityLikeWeights } from '../test/helpers/sparsity_weights.ts';

export const NETWORKS = {
  vgg19: () => vgg19(),
  resnet164: () => resnet164(),
  densenet40: () => densenet40(),
  mobilenet: () => mobilenet(),
} as const satisfies Record<string, () => Graph>;

export type NetworkName = keyof typeof NETWORKS;

/** A benchmark network by name (an error lists the names), with sparsity-like weights and one seeded input sample. */
export function benchNetwork(name: string): { readonly net: NetworkName; readonly graph: Graph; readonly x: Float32Array } {
  if (!(name in NETWORKS)) throw new Error(`unknown network ${name}; one of ${Object.keys(NETWORKS).join(', ')}`);
  const net = name as NetworkName;
  const graph = withSparsityLikeWeights(NETWORKS[net]());
  const [input] = graphInputs(graph);
  const rng = new Rng(11);
  const x = rng.fill(
    input.type.shape.slice(1).reduce((a, b) => a * b, 1),
    () => rng.normal(),
  );
  return { net, graph, x };
}
