// Post-activation ResNet-56 for CIFAR-10 (He et al. 2016): 3 stages of 9 basic blocks
// (conv-BN-ReLU-conv-BN, added to the shortcut, then ReLU); where the shape changes the
// shortcut is a 1x1 conv with BN. Here the BN feeding each add sits inside the residual branch.
import type { Graph } from '../src/ir/types.ts';
import {
  add,
  batchNorm,
  block,
  conv2d,
  convBnRelu,
  dense,
  flatten,
  globalAvgPool,
  model,
  relu,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

export function basicBlock(x: Value<4>, planes: number, stride: number): Value<4> {
  const h = batchNorm(conv2d(convBnRelu(x, planes, { stride }), planes));
  const shortcut =
    stride !== 1 || x.shape[3] !== planes
      ? batchNorm(conv2d(x, planes, { kernel: 1, stride, name: 'downsample' }), { name: 'downsample_bn' })
      : x;
  return relu(add(h, shortcut));
}

export function resnet(name: string, depth: number, spec: Partial<ModelSpec> = {}, classes = 10): Graph {
  if ((depth - 2) % 6 !== 0) throw new Error(`basic-block ResNet depth must be 6n+2, got ${depth}`);
  const blocks = (depth - 2) / 6;
  return model(name, { input: [32, 32, 3], ...spec }, (x) => {
    let h = convBnRelu(x, 16);
    [16, 32, 64].forEach((planes, stage) => {
      for (let i = 0; i < blocks; i++) {
        h = block(`layer${stage + 1}.${i}`, h, () => basicBlock(h, planes, stage > 0 && i === 0 ? 2 : 1));
      }
    });
    return dense(flatten(globalAvgPool(h)), classes, { name: 'fc' });
  });
}

export default function resnet56(spec: Partial<ModelSpec> = {}): Graph {
  return resnet('resnet56', 56, spec);
}
