// Long narrow networks of a given size, for the complexity guard and the compiler-speed benchmark:
// pre-activation residual units (BN and relu before each conv, so that lowering has BNs to fold,
// BNs to turn into depthwise convs and activations to fuse), a residual add every unit and a
// concat every fourth.
import { add, batchNorm, concat, conv2d, dense, flatten, globalAvgPool, model, relu, type Value } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';

/** About `nodes` nodes (within one unit of 8). */
export function longNetwork(nodes: number): Graph {
  return model(`long${nodes}`, { input: [4, 4, 8] }, (x) => {
    let h: Value<4> = x;
    let count = 1;
    for (let unit = 0; count < nodes - 6; unit++) {
      const branch = conv2d(relu(batchNorm(conv2d(relu(batchNorm(h)), 8, { kernel: 1 }))), 8, { kernel: 1 });
      h = unit % 4 === 3 ? conv2d(concat(h, branch), 8, { kernel: 1 }) : add(branch, h);
      count += unit % 4 === 3 ? 8 : 7;
    }
    return dense(flatten(globalAvgPool(relu(batchNorm(h)))), 10);
  });
}
