// A MobileNet-style network for CIFAR-10: a conv3x3 stem, then depthwise-separable blocks
// (depthwise 3x3-BN-ReLU6, pointwise 1x1-BN-ReLU6), global average pooling and a dense layer.
// Depthwise convs tie their input and output channels 1:1, which pruning must respect.
import type { Graph } from '../src/ir/types.ts';
import {
  block,
  batchNorm,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  globalAvgPool,
  model,
  relu6,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

/** [pointwise width, depthwise stride] of each separable block. */
export const MOBILENET_CONFIG: readonly (readonly [number, number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [1024, 2],
];

export function separable(x: Value<4>, out: number, stride: number): Value<4> {
  const h = relu6(batchNorm(depthwiseConv2d(x, { stride })));
  return relu6(batchNorm(conv2d(h, out, { kernel: 1 })));
}

export default function mobilenet(spec: Partial<ModelSpec> = {}): Graph {
  return model('mobilenet', { input: [32, 32, 3], ...spec }, (x) => {
    let h = relu6(batchNorm(conv2d(x, 32)));
    MOBILENET_CONFIG.forEach(([out, stride], i) => {
      h = block(`block${i + 1}`, h, () => separable(h, out, stride));
    });
    return dense(flatten(globalAvgPool(h)), 10, { name: 'fc' });
  });
}
