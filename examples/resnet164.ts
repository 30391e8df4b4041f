// Pre-activation ResNet-164 for CIFAR-10, as in Network Slimming: 3 stages of 18 bottleneck
// blocks (BN-ReLU before each conv, expansion 4), a 1x1 conv shortcut where the shape changes.
// 1,703,258 params and 247,646,720 MACs.
import type { Graph } from '../src/ir/types.ts';
import {
  add,
  avgPool,
  batchNorm,
  block,
  bnReluConv,
  conv2d,
  dense,
  flatten,
  model,
  relu,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

const EXPANSION = 4;

/** One bottleneck: BN-ReLU-conv1x1, BN-ReLU-conv3x3 (stride), BN-ReLU-conv1x1 (x4), plus shortcut. */
export function bottleneck(x: Value<4>, planes: number, stride: number): Value<4> {
  const out = planes * EXPANSION;
  let h = bnReluConv(x, planes, { kernel: 1 });
  h = bnReluConv(h, planes, { kernel: 3, stride });
  h = bnReluConv(h, out, { kernel: 1 });
  // The official code applies the shortcut conv to the block's input, before any BN.
  const shortcut = stride !== 1 || x.shape[3] !== out ? conv2d(x, out, { kernel: 1, stride, name: 'downsample' }) : x;
  return add(h, shortcut);
}

export function preactResnet(name: string, depth: number, spec: Partial<ModelSpec> = {}, classes = 10): Graph {
  if ((depth - 2) % 9 !== 0) throw new Error(`pre-activation ResNet depth must be 9n+2, got ${depth}`);
  const blocks = (depth - 2) / 9;
  return model(name, { input: [32, 32, 3], ...spec }, (x) => {
    let h = conv2d(x, 16, { name: 'conv1' });
    [16, 32, 64].forEach((planes, stage) => {
      for (let i = 0; i < blocks; i++) {
        h = block(`layer${stage + 1}.${i}`, h, () => bottleneck(h, planes, stage > 0 && i === 0 ? 2 : 1));
      }
    });
    h = relu(batchNorm(h, { name: 'bn' }));
    h = avgPool(h, { kernel: 8 });
    return dense(flatten(h), classes, { name: 'fc' });
  });
}

export default function resnet164(spec: Partial<ModelSpec> = {}): Graph {
  return preactResnet('resnet164', 164, spec);
}
