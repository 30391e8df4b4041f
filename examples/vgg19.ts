// VGG-19 for CIFAR-10, as in Network Slimming (Liu et al. 2017): sixteen conv3x3-BN-ReLU
// layers with four max pools, a 2x2 average pool and one dense layer.
// 20,035,018 params and 398,136,320 MACs (7.96e8 FLOPs at 2 FLOPs per MAC).
import type { Graph } from '../src/ir/types.ts';
import { avgPool, convBnRelu, dense, flatten, maxPool, model, type ModelSpec } from '../src/frontends/dsl.ts';

/** Layer widths; 'M' is a 2x2 max pool. */
export const VGG19_CONFIG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512] as const;

export type VggConfig = readonly (number | 'M')[];

export function vgg(name: string, config: VggConfig, spec: Partial<ModelSpec> = {}, classes = 10): Graph {
  return model(name, { input: [32, 32, 3], ...spec }, (x) => {
    let h = x;
    for (const layer of config) h = layer === 'M' ? maxPool(h) : convBnRelu(h, layer);
    h = avgPool(h, { kernel: 2 });
    return dense(flatten(h), classes);
  });
}

export default function vgg19(spec: Partial<ModelSpec> = {}): Graph {
  return vgg('vgg19', VGG19_CONFIG, spec);
}
