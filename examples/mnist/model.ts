// A small VGG-style CNN with BatchNorm for 28x28 greyscale digits: three stages of
// conv3x3-BN-ReLU layers with 2x2 max pooling, then one dense layer on the flattened features.
// Every conv is followed by a BN, so every conv's output channels can be slimmed.
import { convBnRelu, dense, flatten, maxPool, model, type ModelSpec } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';

/** Layer widths; 'M' is a 2x2 max pool. */
export const MNIST_VGG_CONFIG = [16, 16, 'M', 32, 32, 'M', 64, 64, 'M'] as const;

export default function mnistVgg(spec: Partial<ModelSpec> = {}): Graph {
  return model('mnist_vgg', { input: [28, 28, 1], ...spec }, (x) => {
    let h = x;
    for (const layer of MNIST_VGG_CONFIG) h = layer === 'M' ? maxPool(h) : convBnRelu(h, layer);
    return dense(flatten(h), 10);
  });
}
