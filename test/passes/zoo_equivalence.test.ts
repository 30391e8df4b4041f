// The paper's networks with sparsity-like weights, pruned at ratios 0.2 to 0.8: the compact
// graph equals the masked original on random inputs, is smaller, and is never larger than what
// the official implementation keeps.
import { beforeAll, describe, expect, it } from 'vitest';
import densenet40 from '../../examples/densenet40.ts';
import mobilenet from '../../examples/mobilenet.ts';
import resnet164 from '../../examples/resnet164.ts';
import resnet56 from '../../examples/resnet56.ts';
import vgg19, { vgg, VGG19_CONFIG, type VggConfig } from '../../examples/vgg19.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { cost } from '../../src/ir/cost.ts';
import { inputsOf, usersOf } from '../../src/ir/node.ts';
import type { Graph, Node } from '../../src/ir/types.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { keptCount, type ChannelMasks } from '../../src/passes/masks.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';

beforeAll(() => initBackend('wasm'));

const RATIOS = [0.2, 0.5, 0.8];
const zoo: readonly [string, () => Graph][] = [
  ['vgg19', vgg19],
  ['resnet164', resnet164],
  ['densenet40', densenet40],
  ['resnet56', resnet56],
  ['mobilenet', mobilenet],
];

describe.each(zoo)('%s', (name, build) => {
  const graph = withSparsityLikeWeights(build(), { seed: name.length });
  it.each(RATIOS)('at ratio %s the compact graph computes the masked original', async (ratio) => {
    const { masked, compact, report } = slimGraph(graph, { ratio });
    const rng = new Rng(Math.round(ratio * 100));
    const x = rng.fill(2 * 32 * 32 * 3, () => rng.normal());
    const [reference] = await interpret(masked, x);
    const [actual] = await interpret(compact, x);
    const cmp = compareOutputs(reference, actual);
    expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff} > ${cmp.tolerance}`).toBe(true);
    // Pruning must matter: the unmasked original computes something else.
    const [unmasked] = await interpret(graph, x);
    expect(compareOutputs(unmasked, actual).ok).toBe(false);
    expect(report.after.params).toBeLessThan(report.before.params);
    expect(report.after.macs).toBeLessThan(report.before.macs);
  });
});

describe('compactness', () => {
  it('VGG-19 pruned has exactly the params of a VGG-19 rebuilt from the kept channels', () => {
    const graph = withSparsityLikeWeights(vgg19(), { seed: 5 });
    const { compact, masks } = slimGraph(graph, { ratio: 0.6 });
    let layer = 0;
    const bnNames = Object.keys(masks);
    const config: VggConfig = VGG19_CONFIG.map((c) => (c === 'M' ? 'M' : keptCount(masks[bnNames[layer++]])));
    expect(cost(compact).params).toBe(cost(vgg('rebuilt', config)).params);
  });

  it.each([
    ['resnet164', resnet164],
    ['densenet40', densenet40],
  ] as const)('%s keeps no more than the official channel-selection approach', (name, build) => {
    const graph = withSparsityLikeWeights(build(), { seed: 11 });
    for (const ratio of [0.4, 0.7]) {
      const { compact, masks } = slimGraph(graph, { ratio });
      expect(cost(compact).params).toBeLessThanOrEqual(officialPrunedParams(graph, masks));
    }
  });
});

/**
 * Params of the official implementation's pruned model: a conv reads the channels kept by the
 * BN before it (through its channel-selection layer) and produces the channels kept by the BN
 * right after it; the residual stream and concatenations stay whole, and a BN followed by a
 * selection stays whole.
 */
function officialPrunedParams(graph: Graph, masks: ChannelMasks): number {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const users = usersOf(graph);
  const kept = (bn: Node) => (bn.op === 'batch_norm' ? keptCount(masks[bn.params]) : 0);
  const channels = (n: Node) => n.type.shape[n.type.shape.length - 1];
  /** The BN feeding a layer through a ReLU, if any (a pre-activation layer). */
  const bnBefore = (n: Node): Node | undefined => {
    const relu = nodes.get(inputsOf(n)[0]);
    const bn = relu?.op === 'relu' ? nodes.get(relu.input) : undefined;
    return bn?.op === 'batch_norm' ? bn : undefined;
  };
  const bnAfter = (n: Node): Node | undefined => {
    const u = users.get(n.id) ?? [];
    return u.length === 1 && u[0].op === 'batch_norm' ? u[0] : undefined;
  };
  let params = 0;
  for (const n of graph.nodes) {
    if (n.op === 'conv2d') {
      const before = bnBefore(n);
      const after = bnAfter(n);
      const cin = before ? kept(before) : graph.weights[n.filter].shape[2];
      const cout = after ? kept(after) : channels(n);
      params += n.kernel[0] * n.kernel[1] * cin * cout;
    } else if (n.op === 'batch_norm') {
      const producer = nodes.get(n.input);
      const pruned = producer?.op === 'conv2d' && bnAfter(producer) === n;
      params += 2 * (pruned ? kept(n) : channels(n));
    } else if (n.op === 'dense') {
      // The last BN (whole, then selected) feeds pooling and flatten before the classifier.
      const lastBn = [...graph.nodes].reverse().find((m) => m.op === 'batch_norm') as Node;
      params += (kept(lastBn) + 1) * channels(n);
    }
  }
  return params;
}
