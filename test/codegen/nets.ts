// Small networks shaped like the paper's zoo (and the MobileNet-style net), with seeded weights
// that look sparsity-trained, for the codegen tests. No vitest import: scripts use them too.
import { densenet } from '../../examples/densenet40.ts';
import mobilenet from '../../examples/mobilenet.ts';
import { preactResnet } from '../../examples/resnet164.ts';
import { resnet } from '../../examples/resnet56.ts';
import { vgg } from '../../examples/vgg19.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import type { Graph } from '../../src/ir/types.ts';

export const SMALL_NETS: Readonly<Record<string, () => Graph>> = {
  vgg: () => withSparsityLikeWeights(vgg('vgg-small', [8, 'M', 16, 'M', 16, 16], { input: [16, 16, 3] })),
  'resnet-preact': () => withSparsityLikeWeights(preactResnet('resnet-preact-small', 11, { input: [32, 32, 3] })),
  'resnet-postact': () => withSparsityLikeWeights(resnet('resnet-postact-small', 8, { input: [16, 16, 3] })),
  densenet: () => withSparsityLikeWeights(densenet('densenet-small', 10, 4, { input: [32, 32, 3] })),
  mobilenet: () => withSparsityLikeWeights(mobilenet()),
};
