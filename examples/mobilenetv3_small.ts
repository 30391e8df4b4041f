// A small MobileNetV3-style network for CIFAR-10: a conv3x3 stem with hard-swish, inverted
// residual blocks (expand 1x1, depthwise, optional squeeze-excite gated by a hard sigmoid,
// project 1x1) with ReLU or hard-swish, a 1x1 head conv, global average pooling, and a
// dense-hard-swish-dense classifier, as MobileNetV3-Small has it, narrower.
import type { Graph } from '../src/ir/types.ts';
import {
  add,
  batchNorm,
  block,
  conv2d,
  dense,
  depthwiseConv2d,
  elementwise,
  flatten,
  globalAvgPool,
  hardSwish,
  model,
  squeezeExcite,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

/** [kernel, expanded channels, output channels, squeeze-excite, activation, stride] per block. */
export const MOBILENETV3_CONFIG: readonly (readonly [3 | 5, number, number, boolean, 'relu' | 'hard_swish', 1 | 2])[] = [
  [3, 16, 16, true, 'relu', 2],
  [3, 72, 24, false, 'relu', 2],
  [3, 88, 24, false, 'relu', 1],
  [5, 96, 40, true, 'hard_swish', 2],
  [5, 240, 40, true, 'hard_swish', 1],
  [5, 120, 48, true, 'hard_swish', 1],
];

/** The squeeze width MobileNetV3 uses: a quarter of the channels, rounded to a multiple of 8. */
const squeezeWidth = (channels: number) => Math.max(8, Math.round(channels / 4 / 8) * 8);

export function invertedResidual(
  x: Value<4>,
  kernel: 3 | 5,
  expanded: number,
  out: number,
  se: boolean,
  activation: 'relu' | 'hard_swish',
  stride: 1 | 2,
): Value<4> {
  const act = (v: Value<4>) => elementwise(activation, v);
  const cin = x.shape[3];
  const wide = expanded === cin ? x : act(batchNorm(conv2d(x, expanded, { kernel: 1 })));
  let h = act(batchNorm(depthwiseConv2d(wide, { kernel, stride })));
  if (se) h = squeezeExcite(h, squeezeWidth(expanded), { activation: 'relu', gate: 'hard_sigmoid' });
  const projected = batchNorm(conv2d(h, out, { kernel: 1 }));
  return stride === 1 && cin === out ? add(x, projected) : projected;
}

export default function mobilenetv3Small(spec: Partial<ModelSpec> = {}): Graph {
  return model('mobilenetv3_small', { input: [32, 32, 3], ...spec }, (x) => {
    let h = hardSwish(batchNorm(conv2d(x, 16)));
    MOBILENETV3_CONFIG.forEach(([kernel, expanded, out, se, activation, stride], i) => {
      h = block(`block${i + 1}`, h, () => invertedResidual(h, kernel, expanded, out, se, activation, stride));
    });
    h = hardSwish(batchNorm(conv2d(h, 288, { kernel: 1 })));
    const features = hardSwish(dense(flatten(globalAvgPool(h)), 256, { name: 'fc1' }));
    return dense(features, 10, { name: 'fc2' });
  });
}
