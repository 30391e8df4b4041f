// The networks the latency benchmark runs: the paper's CIFAR models and the MobileNet-style net.
import densenet40 from '../examples/densenet40.ts';
import mobilenet from '../examples/mobilenet.ts';
import resnet164 from '../examples/resnet164.ts';
import vgg19 from '../examples/vgg19.ts';
import type { Graph } from '../src/ir/types.ts';

export const NETWORKS = {
  vgg19: () => vgg19(),
  resnet164: () => resnet164(),
  densenet40: () => densenet40(),
  mobilenet: () => mobilenet(),
} as const satisfies Record<string, () => Graph>;

export type NetworkName = keyof typeof NETWORKS;
