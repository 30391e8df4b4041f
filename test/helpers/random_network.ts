// Random CNNs for property tests of the slimming passes: chains, pre- and post-activation
// residual blocks, DenseNet-style concats, depthwise and grouped convs, EfficientNet- and
// MobileNetV3-style inverted residuals with squeeze-excite (silu, sigmoid, hard_swish,
// hard_sigmoid, mul by a per-channel gate), ShuffleNetV2 units (channel split and shuffle as
// gathers), pooling, and heads
// through global pooling or a plain NHWC flatten. A recipe is plain data, so fast-check can
// generate and shrink it; `buildNetwork` turns it into a verified graph.
import fc from 'fast-check';
import {
  add,
  avgPool,
  batchNorm,
  bnReluConv,
  concat,
  conv2d,
  convBnRelu,
  dense,
  depthwiseConv2d,
  flatten,
  gather,
  globalAvgPool,
  hardSwish,
  maxPool,
  model,
  relu,
  relu6,
  silu,
  softmax,
  squeezeExcite,
  type Value,
} from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';

export type Block =
  | { readonly kind: 'conv'; readonly width: number; readonly kernel: 1 | 3; readonly stride: 1 | 2; readonly bias: boolean }
  | { readonly kind: 'preact'; readonly width: number }
  | { readonly kind: 'postact'; readonly width: number }
  | { readonly kind: 'dense_layer'; readonly growth: number }
  | { readonly kind: 'depthwise'; readonly width: number }
  | { readonly kind: 'grouped'; readonly width: number }
  | { readonly kind: 'pool'; readonly max: boolean }
  | { readonly kind: 'mbconv'; readonly expand: number; readonly style: 'efficientnet' | 'mobilenetv3' }
  | { readonly kind: 'shuffle' };

export interface Recipe {
  readonly width: number;
  readonly blocks: readonly Block[];
  readonly head: 'gap' | 'flatten' | 'preact_gap';
  readonly softmax: boolean;
  readonly seed: number;
}

const width = fc.integer({ min: 2, max: 6 });

export const blockArb: fc.Arbitrary<Block> = fc.oneof(
  fc.record({
    kind: fc.constant('conv' as const),
    width,
    kernel: fc.constantFrom(1 as const, 3 as const),
    stride: fc.constantFrom(1 as const, 2 as const),
    bias: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('preact' as const), width }),
  fc.record({ kind: fc.constant('postact' as const), width }),
  fc.record({ kind: fc.constant('dense_layer' as const), growth: width }),
  fc.record({ kind: fc.constant('depthwise' as const), width }),
  fc.record({ kind: fc.constant('grouped' as const), width }),
  fc.record({ kind: fc.constant('pool' as const), max: fc.boolean() }),
  fc.record({
    kind: fc.constant('mbconv' as const),
    expand: fc.integer({ min: 2, max: 8 }),
    style: fc.constantFrom('efficientnet' as const, 'mobilenetv3' as const),
  }),
  fc.record({ kind: fc.constant('shuffle' as const) }),
);

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  width,
  blocks: fc.array(blockArb, { minLength: 1, maxLength: 7 }),
  head: fc.constantFrom('gap' as const, 'flatten' as const, 'preact_gap' as const),
  softmax: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function applyBlock(h: Value<4>, b: Block): Value<4> {
  const spatial = h.shape[1];
  switch (b.kind) {
    case 'conv':
      return convBnRelu(h, b.width, { kernel: b.kernel, stride: spatial > 2 ? b.stride : 1, bias: b.bias });
    case 'preact':
      // x + conv1x1(BN-ReLU(conv3x3(BN-ReLU(x)))): a pre-activation residual block.
      return add(h, bnReluConv(bnReluConv(h, b.width), h.shape[3], { kernel: 1 }));
    case 'postact':
      // ReLU(x + BN(conv(ReLU(BN(conv(x)))))): BN feeding the add.
      return relu(add(batchNorm(conv2d(convBnRelu(h, b.width), h.shape[3])), h));
    case 'dense_layer':
      return concat(h, bnReluConv(h, b.growth));
    case 'depthwise':
      return relu6(batchNorm(conv2d(relu6(batchNorm(depthwiseConv2d(h))), b.width, { kernel: 1 })));
    case 'grouped': {
      const c = h.shape[3] % 2 === 0 ? h.shape[3] : h.shape[3] + 1;
      const even = c === h.shape[3] ? h : convBnRelu(h, c, { kernel: 1 });
      return relu(batchNorm(conv2d(even, 2 * b.width, { groups: 2 })));
    }
    case 'pool':
      return spatial >= 2 ? (b.max ? maxPool(h) : avgPool(h)) : h;
    case 'mbconv': {
      // Expand 1x1-BN-act, depthwise-BN-act, squeeze-excite, project 1x1-BN, plus the input.
      const v3 = b.style === 'mobilenetv3';
      const act = (v: Value<4>) => (v3 ? hardSwish(v) : silu(v));
      const expanded = act(batchNorm(conv2d(h, b.expand, { kernel: 1 })));
      const spread = act(batchNorm(depthwiseConv2d(expanded)));
      const gated = squeezeExcite(spread, 2, v3 ? { activation: 'relu', gate: 'hard_sigmoid' } : {});
      return add(h, batchNorm(conv2d(gated, h.shape[3], { kernel: 1 })));
    }
    case 'shuffle': {
      // ShuffleNetV2: split the channels in halves, transform the second, concatenate, shuffle.
      const c = h.shape[3] % 2 === 0 ? h.shape[3] : h.shape[3] + 1;
      const even = c === h.shape[3] ? h : convBnRelu(h, c, { kernel: 1 });
      const half = c / 2;
      const kept = gather(
        even,
        Array.from({ length: half }, (_, i) => i),
      );
      const branch = convBnRelu(
        batchNorm(
          depthwiseConv2d(
            convBnRelu(
              gather(
                even,
                Array.from({ length: half }, (_, i) => half + i),
              ),
              half,
              { kernel: 1 },
            ),
          ),
        ),
        half,
        { kernel: 1 },
      );
      const shuffled = Array.from({ length: c }, (_, i) => (i % 2) * half + Math.floor(i / 2));
      return gather(concat(kept, branch), shuffled);
    }
  }
}

export function buildNetwork(recipe: Recipe): Graph {
  return model('random', { input: [6, 6, 3], seed: recipe.seed }, (x) => {
    let h = convBnRelu(x, recipe.width);
    for (const b of recipe.blocks) h = applyBlock(h, b);
    if (recipe.head === 'preact_gap') h = relu(batchNorm(h));
    const features = recipe.head === 'flatten' ? flatten(h) : flatten(globalAvgPool(h));
    const logits = dense(features, 4);
    return recipe.softmax ? softmax(logits) : logits;
  });
}
