// A VGG-style CNN with BatchNorm for Fashion-MNIST (28x28 greyscale, 10 classes): three stages
// of two conv3x3-BN-ReLU layers with 2x2 max pooling, then one dense layer. Every conv is
// followed by a BN, so every conv's output channels can be slimmed.
//
// Sized for 2 CPU cores: about 7.3M MACs per image, so an epoch of the 60,000 training images
// takes a few minutes on wasm. The model takes pixels in [0, 1] as they are: the BN after the
// first conv normalises, so no input normalisation layer is needed and the compiled module has
// no preprocessing contract.
import { convBnRelu, dense, flatten, maxPool, model, type ModelSpec } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';

/** Layer widths; 'M' is a 2x2 max pool. */
export const FASHION_VGG_CONFIG = [16, 16, 'M', 32, 32, 'M', 64, 64, 'M'] as const;

export default function fashionVgg(spec: Partial<ModelSpec> = {}): Graph {
  return model('fashion_vgg', { input: [28, 28, 1], ...spec }, (x) => {
    let h = x;
    for (const layer of FASHION_VGG_CONFIG) h = layer === 'M' ? maxPool(h) : convBnRelu(h, layer);
    return dense(flatten(h), 10);
  });
}
