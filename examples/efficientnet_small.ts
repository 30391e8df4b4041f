// A small EfficientNet-style network for CIFAR-10: a conv3x3 stem, MBConv blocks (expand 1x1,
// depthwise 3x3 or 5x5, squeeze-excite gated by a sigmoid, project 1x1, a residual where the
// shape allows), SiLU throughout, a 1x1 head conv, global average pooling and a dense layer.
// EfficientNet-B0's blocks at a width and depth a browser runs in a few milliseconds.
//
// Pruning it shows the squeeze-excite coupling: a dropped channel of the depthwise BN is zero
// whatever its gate, so it leaves the gate's mul and the expand conv of the gate as well.
import type { Graph } from '../src/ir/types.ts';
import {
  add,
  batchNorm,
  block,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  globalAvgPool,
  model,
  silu,
  squeezeExcite,
  type ModelSpec,
  type Value,
} from '../src/frontends/dsl.ts';

/** [expand ratio, kernel, stride, output channels] of each MBConv block (EfficientNet-B0's first stages, narrower). */
export const EFFICIENTNET_CONFIG: readonly (readonly [number, 3 | 5, 1 | 2, number])[] = [
  [1, 3, 1, 16],
  [6, 3, 2, 24],
  [6, 3, 1, 24],
  [6, 5, 2, 40],
  [6, 5, 1, 40],
  [6, 3, 2, 80],
];

/** An MBConv block with squeeze-excite (squeeze to a quarter of the block's input channels). */
export function mbconv(x: Value<4>, expand: number, kernel: 3 | 5, stride: 1 | 2, out: number): Value<4> {
  const cin = x.shape[3];
  const expanded = expand === 1 ? x : silu(batchNorm(conv2d(x, cin * expand, { kernel: 1 })));
  const spread = silu(batchNorm(depthwiseConv2d(expanded, { kernel, stride })));
  const gated = squeezeExcite(spread, Math.max(1, Math.floor(cin / 4)));
  const projected = batchNorm(conv2d(gated, out, { kernel: 1 }));
  return stride === 1 && cin === out ? add(x, projected) : projected;
}

export default function efficientnetSmall(spec: Partial<ModelSpec> = {}): Graph {
  return model('efficientnet_small', { input: [32, 32, 3], ...spec }, (x) => {
    let h = silu(batchNorm(conv2d(x, 32)));
    EFFICIENTNET_CONFIG.forEach(([expand, kernel, stride, out], i) => {
      h = block(`block${i + 1}`, h, () => mbconv(h, expand, kernel, stride, out));
    });
    h = silu(batchNorm(conv2d(h, 320, { kernel: 1 })));
    return dense(flatten(globalAvgPool(h)), 10, { name: 'fc' });
  });
}
