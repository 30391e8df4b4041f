// Small named networks with fixed masks for golden tests of the slimming passes.
import { add, batchNorm, bnReluConv, concat, conv2d, dense, flatten, globalAvgPool, model, relu } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';
import type { ChannelMasks } from '../../src/passes/masks.ts';

/** A stem, one pre-activation residual block and one dense (concat) layer. */
export function smallResDense(): Graph {
  return model('small', { input: [4, 4, 3] }, (x) => {
    const stem = conv2d(x, 4, { name: 'stem' });
    const branch = bnReluConv(bnReluConv(stem, 3, { name: 'conv_a' }), 4, { kernel: 1, name: 'conv_b' });
    const stream = add(branch, stem);
    const grown = concat(stream, bnReluConv(stream, 2, { name: 'conv_c' }));
    return dense(flatten(globalAvgPool(relu(batchNorm(grown, { name: 'bn_out' })))), 2, { name: 'fc' });
  });
}

export const SMALL_MASKS: ChannelMasks = {
  bn1: [true, false, true, true],
  bn2: [false, true, true],
  bn3: [true, true, false, true],
  bn_out: [true, false, true, true, false, true],
};
