// DenseNet-40 for CIFAR-10, as in Network Slimming: growth rate 12, three dense blocks of
// twelve BN-ReLU-conv3x3 layers whose outputs are concatenated to their inputs, transitions of
// BN-ReLU-conv1x1 (no compression) and a 2x2 average pool.
// 1,059,298 params and 282,917,328 MACs.
import type { Graph } from '../src/ir/types.ts';
import {
  avgPool,
  batchNorm,
  block,
  bnReluConv,
  concat,
  conv2d,
  dense,
  flatten,
  model,
  relu,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

/** One dense layer: the input with 'growth' new channels appended. */
export function denseLayer(x: Value<4>, growth: number): Value<4> {
  return concat(x, bnReluConv(x, growth, { kernel: 3 }));
}

export function densenet(name: string, depth: number, growth: number, spec: Partial<ModelSpec> = {}, classes = 10): Graph {
  if ((depth - 4) % 3 !== 0) throw new Error(`DenseNet depth must be 3n+4, got ${depth}`);
  const layers = (depth - 4) / 3;
  return model(name, { input: [32, 32, 3], ...spec }, (x) => {
    let h = conv2d(x, growth * 2, { name: 'conv1' });
    for (let b = 1; b <= 3; b++) {
      for (let i = 0; i < layers; i++) h = block(`dense${b}.${i}`, h, () => denseLayer(h, growth));
      if (b < 3) {
        h = block(`trans${b}`, h, () => avgPool(bnReluConv(h, h.shape[3], { kernel: 1 }), { kernel: 2 }));
      }
    }
    h = relu(batchNorm(h, { name: 'bn' }));
    h = avgPool(h, { kernel: 8 });
    return dense(flatten(h), classes, { name: 'fc' });
  });
}

export default function densenet40(spec: Partial<ModelSpec> = {}): Graph {
  return densenet('densenet40', 40, 12, spec);
}
