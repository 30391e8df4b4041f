// Small seeded random graphs that use every op with random attributes (strides, dilations,
// padding kinds, groups, pool divisors, fused activations) and random weights, BN statistics
// included. Used to compare batch sizes and backends on graphs nobody computed by hand.
import {
  add,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  gather,
  globalAvgPool,
  maxPool,
  model,
  relu,
  relu6,
  softmax,
  type PaddingSpec,
  type Value,
} from '../../src/frontends/dsl.ts';
import type { Activation, Graph, Weight } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { Rng } from '../../src/util/random.ts';

export function randomGraph(seed: number): Graph {
  const rng = new Rng(seed);
  const pick = <T>(options: readonly T[]): T => options[rng.int(0, options.length - 1)];
  const input = [rng.int(7, 10), rng.int(7, 10), rng.int(2, 4)] as const;
  const stemActivation = pick<Activation>(['none', 'relu', 'relu6']);

  const built = model(`random${seed}`, { input, seed }, (x) => {
    const width = 2 * rng.int(2, 4);
    const stemPadding = pick<PaddingSpec>(['same', 'valid', [rng.int(0, 2), rng.int(0, 2), rng.int(0, 2), rng.int(0, 2)]]);
    let h = conv2d(x, width, {
      kernel: rng.int(1, 3),
      stride: rng.int(1, 2),
      dilation: rng.int(1, 2),
      padding: stemPadding,
      bias: true,
      name: 'stem',
    });
    h = relu(batchNorm(h));
    const depthwise = depthwiseConv2d(h, { kernel: 3, dilation: rng.int(1, 2), padding: 'same', bias: true });
    const grouped = conv2d(h, width, { kernel: pick([1, 3]), groups: 2, padding: 'same' });
    h = relu6(add(h, depthwise, grouped));
    h = concat(h, gather(h, rng.permutation(width).slice(0, rng.int(1, width))));
    // Downsampling, with a dilation on odd seeds (the stride-and-dilation case tfjs lacks).
    const downPadding = pick<PaddingSpec>(['same', [1, 1, 0, 2]]);
    h = conv2d(h, 6, { kernel: 3, stride: 2, dilation: 1 + (seed % 2), padding: downPadding, bias: true, name: 'down' });
    const poolPadding = pick<PaddingSpec>(['same', [0, 1, 1, 0]]);
    const pool = { kernel: 2, stride: rng.int(1, 2), padding: poolPadding };
    h = rng.uniform() < 0.5 ? maxPool(h, pool) : avgPool(h, { ...pool, countIncludePad: rng.uniform() < 0.5 });
    h = scaleShift(h);
    const logits = softmax(dense(flatten(globalAvgPool(h)), 5, { name: 'head' }));
    const features = batchNorm(dense(flatten(h), 4, { activation: 'relu', name: 'features' }));
    return [logits, features];
  });

  const weights: Record<string, Weight> = {};
  for (const [name, { shape, data }] of Object.entries(built.weights)) {
    const sample = name.endsWith('.var') ? () => 0.5 + rng.uniform() : () => 0.5 * rng.normal();
    weights[name] = { shape, data: rng.fill(data.length, sample) };
  }
  const nodes = built.nodes.map((n) => (n.op === 'conv2d' && n.id === 'stem' ? { ...n, activation: stemActivation } : n));
  return verify({ ...built, nodes, weights });
}

/** A per-channel affine map (the DSL has no function for it: passes create these). */
function scaleShift(x: Value<4>): Value<4> {
  const b = x.builder;
  const c = x.shape[3];
  const scale = b.addWeight('affine.scale', [c], () => 0);
  const shift = b.addWeight('affine.shift', [c], () => 0);
  return b.push({ op: 'scale_shift', id: 'affine', type: f32([]), input: x.id, scale, shift }, 4);
}

/** N samples of standard normal input for `graph`'s single input. */
export function randomInput(graph: Graph, n: number, seed: number): Float32Array {
  const [input] = graph.nodes;
  const perSample = input.type.shape.slice(1).reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  return rng.fill(n * perSample, () => rng.normal());
}
