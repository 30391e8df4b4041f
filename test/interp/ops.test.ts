// Every op of the reference interpreter against numbers computed by hand on tiny tensors.
// Images are row-major NHWC; `seq(9)` on a 3x3x1 input is
//   1 2 3
//   4 5 6
//   7 8 9
import { beforeAll, describe, it } from 'vitest';
import {
  add,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  gather,
  globalAvgPool,
  maxPool,
  relu,
  relu6,
  softmax,
} from '../../src/frontends/dsl.ts';
import { f32 } from '../../src/ir/types.ts';
import { initBackend } from '../../src/interp/backend.ts';
import { expectClose, nhwc, run, seq, tiny, withActivation } from './tiny.ts';

beforeAll(() => initBackend('wasm'));

const ones = (n: number) => new Array<number>(n).fill(1);

describe('conv2d padding, stride and dilation', () => {
  it('valid: a 2x2 filter [[1,2],[3,4]] slides over the 3x3 image', async () => {
    const g = tiny([3, 3, 1], (x) => conv2d(x, 1, { kernel: 2, padding: 'valid', name: 'c' }), { 'c.w': [1, 2, 3, 4] });
    // top-left window 1*1 + 2*2 + 3*4 + 4*5
    expectClose(await run(g, seq(9)), [37, 47, 67, 77]);
  });

  it('same, stride 1: a 3x3 box filter sums each neighbourhood, zeros outside', async () => {
    const g = tiny([3, 3, 1], (x) => conv2d(x, 1, { kernel: 3, padding: 'same', name: 'c' }), { 'c.w': ones(9) });
    expectClose(await run(g, seq(9)), [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('explicit symmetric padding 1 grows the 3x3 image to a 4x4 output with a 2x2 box', async () => {
    const g = tiny([3, 3, 1], (x) => conv2d(x, 1, { kernel: 2, padding: 1, name: 'c' }), { 'c.w': ones(4) });
    expectClose(await run(g, seq(9)), [1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9]);
  });

  it('explicit asymmetric padding: one row on top, one column on the right', async () => {
    const g = tiny([3, 3, 1], (x) => conv2d(x, 1, { kernel: 2, padding: [1, 0, 0, 1], name: 'c' }), { 'c.w': ones(4) });
    // row 0 sees the pad row and image row 0; column 2 sees image column 2 and the pad column
    expectClose(await run(g, seq(9)), [3, 5, 3, 12, 16, 9, 24, 28, 15]);
  });

  it('same, stride 2 on an even 4x4 image: TF puts the one pad row/column at the bottom/right', async () => {
    const g = tiny([4, 4, 1], (x) => conv2d(x, 1, { kernel: 3, stride: 2, padding: 'same', name: 'c' }), { 'c.w': ones(9) });
    // windows cover rows {0,1,2} and {2,3,pad}; the pad on top/left would give [14, 30, 57, 99]
    expectClose(await run(g, seq(16)), [54, 45, 72, 54]);
  });

  it('same, stride 2 on an odd 3x3 image with a 2x2 filter: the pad is again at the bottom/right', async () => {
    const g = tiny([3, 3, 1], (x) => conv2d(x, 1, { kernel: 2, stride: 2, padding: 'same', name: 'c' }), { 'c.w': ones(4) });
    expectClose(await run(g, seq(9)), [12, 9, 15, 9]);
  });

  it('dilation 2: a 2x2 filter reads taps two apart', async () => {
    const g = tiny([4, 4, 1], (x) => conv2d(x, 1, { kernel: 2, dilation: 2, padding: 'valid', name: 'c' }), { 'c.w': [1, 2, 3, 4] });
    // o(0,0) = 1*x(0,0) + 2*x(0,2) + 3*x(2,0) + 4*x(2,2) = 1 + 6 + 27 + 44
    expectClose(await run(g, seq(16)), [78, 88, 118, 128]);
  });

  it('dilation 2 with stride 2 (which tfjs cannot do in one conv), valid', async () => {
    const g = tiny([5, 5, 1], (x) => conv2d(x, 1, { kernel: 2, dilation: 2, stride: 2, padding: 'valid', name: 'c' }), {
      'c.w': [1, 2, 3, 4],
    });
    // o(i,j) = 1*x(2i,2j) + 2*x(2i,2j+2) + 3*x(2i+2,2j) + 4*x(2i+2,2j+2) on the 5x5 image 1..25
    expectClose(await run(g, seq(25)), [92, 112, 192, 212]);
  });

  it('dilation 2 with stride 2, same: pad 1 on each side, windows start at rows/cols -1, 1, 3', async () => {
    const g = tiny([5, 5, 1], (x) => conv2d(x, 1, { kernel: 2, dilation: 2, stride: 2, padding: 'same', name: 'c' }), {
      'c.w': [1, 2, 3, 4],
    });
    expectClose(await run(g, seq(25)), [28, 57, 27, 82, 152, 66, 34, 55, 19]);
  });
});

describe('conv2d groups, bias and fused activation', () => {
  it('groups=2: input channels 0,1 feed outputs 0,1 and channels 2,3 feed outputs 2,3', async () => {
    // HWIO [1,1,2,4]: row i holds the weights from a group's i-th input channel to every output
    const g = tiny([1, 1, 4], (x) => conv2d(x, 4, { kernel: 1, groups: 2, name: 'c' }), { 'c.w': [1, 2, 3, 4, 10, 20, 30, 40] });
    // out0 = 1*1 + 2*10, out1 = 1*2 + 2*20, out2 = 3*3 + 4*30, out3 = 3*4 + 4*40
    expectClose(await run(g, [1, 2, 3, 4]), [21, 42, 129, 172]);
  });

  it('groups=2 with a 2x2 spatial kernel keeps each group on its own channels at every position', async () => {
    // filter [2,2,2,2]; output 0 (group 0: channels 0, 1) takes the top-left tap of channel 1,
    // output 1 (group 1: channels 2, 3) the bottom-right tap of channel 2
    const filter = new Array<number>(16).fill(0);
    filter[((0 * 2 + 0) * 2 + 1) * 2 + 0] = 1;
    filter[((1 * 2 + 1) * 2 + 0) * 2 + 1] = 1;
    const g = tiny([2, 3, 4], (x) => conv2d(x, 2, { kernel: 2, groups: 2, padding: 'valid', name: 'c' }), { 'c.w': filter });
    const image = nhwc(2, 3, 4, (h, w, c) => 10 ** c * (3 * h + w + 1));
    // channel 1 at (0, j) is 10 * (j + 1); channel 2 at (1, j + 1) is 100 * (j + 5)
    expectClose(await run(g, image), [10, 500, 20, 600]);
  });

  it('depthwise (groups = cin = cout): HWIO [kh,kw,1,C] gives each channel its own filter', async () => {
    // channel 0 picks the top-left tap of each 2x2 window, channel 1 the bottom-right one
    const g = tiny([3, 3, 2], (x) => depthwiseConv2d(x, { kernel: 2, padding: 'valid', name: 'dw' }), {
      'dw.w': [1, 0, 0, 0, 0, 0, 0, 1],
    });
    const image = nhwc(3, 3, 2, (h, w, c) => (c === 0 ? 1 : 10) * (3 * h + w + 1));
    expectClose(await run(g, image), [1, 50, 2, 60, 4, 80, 5, 90]);
  });

  it('depthwise, stride 2, same on an even image (the MobileNet downsampling)', async () => {
    const g = tiny([4, 4, 2], (x) => depthwiseConv2d(x, { kernel: 3, stride: 2, padding: 'same', name: 'dw' }), { 'dw.w': ones(18) });
    const image = nhwc(4, 4, 2, (h, w, c) => (c === 0 ? 1 : -1) * (4 * h + w + 1));
    expectClose(await run(g, image), [54, -54, 45, -45, 72, -72, 54, -54]);
  });

  it('groups = cin with two outputs per channel: outputs 2c and 2c+1 read channel c', async () => {
    const g = tiny([1, 1, 2], (x) => conv2d(x, 4, { kernel: 1, groups: 2, name: 'c' }), { 'c.w': [1, 2, 3, 4] });
    expectClose(await run(g, [5, 7]), [5, 10, 21, 28]);
  });

  it('bias is added per output channel, then the fused activation applies', async () => {
    const base = tiny([1, 1, 1], (x) => conv2d(x, 3, { kernel: 1, bias: true, name: 'c' }), {
      'c.w': [1, -1, 4],
      'c.b': [0.5, 0.5, -0.5],
    });
    expectClose(await run(base, [2]), [2.5, -1.5, 7.5]);
    expectClose(await run(withActivation(base, 'c', 'relu'), [2]), [2.5, 0, 7.5]);
    expectClose(await run(withActivation(base, 'c', 'relu6'), [2]), [2.5, 0, 6]);
  });
});

describe('pooling', () => {
  it('max pool 2x2, stride 2, valid', async () => {
    const g = tiny([4, 4, 1], (x) => maxPool(x, { kernel: 2 }));
    expectClose(await run(g, seq(16)), [6, 8, 14, 16]);
  });

  it('max pool 3x3 same pads with -Infinity: on negative values the border is not 0', async () => {
    const g = tiny([3, 3, 1], (x) => maxPool(x, { kernel: 3, stride: 1, padding: 'same' }));
    expectClose(await run(g, seq(9, -1)), [-1, -1, -2, -1, -1, -2, -4, -4, -5]);
  });

  it('max pool 2x2 stride 2 same on an odd 3x3 image: bottom/right windows hang over the edge', async () => {
    const g = tiny([3, 3, 1], (x) => maxPool(x, { kernel: 2, stride: 2, padding: 'same' }));
    expectClose(await run(g, seq(9)), [5, 6, 8, 9]);
    expectClose(await run(g, seq(9, -1)), [-1, -3, -7, -9]);
  });

  it('avg pool 2x2 stride 2 valid', async () => {
    const g = tiny([4, 4, 1], (x) => avgPool(x, { kernel: 2 }));
    expectClose(await run(g, seq(16)), [3.5, 5.5, 11.5, 13.5]);
  });

  it('avg pool 3x3 same: countIncludePad divides by 9, otherwise by the real positions', async () => {
    const including = tiny([3, 3, 1], (x) => avgPool(x, { kernel: 3, stride: 1, padding: 'same', countIncludePad: true }));
    expectClose(
      await run(including, seq(9)),
      [12, 21, 16, 27, 45, 33, 24, 39, 28].map((s) => s / 9),
    );
    const excluding = tiny([3, 3, 1], (x) => avgPool(x, { kernel: 3, stride: 1, padding: 'same', countIncludePad: false }));
    // sums over 4, 6, 4, 6, 9, 6, 4, 6, 4 real positions
    expectClose(await run(excluding, seq(9)), [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]);
  });

  it('avg pool 2x2 stride 2 with explicit bottom/right padding, both divisors', async () => {
    const pad = [0, 1, 0, 1] as const;
    const including = tiny([3, 3, 1], (x) => avgPool(x, { kernel: 2, padding: pad, countIncludePad: true }));
    expectClose(await run(including, seq(9)), [3, 2.25, 3.75, 2.25]);
    const excluding = tiny([3, 3, 1], (x) => avgPool(x, { kernel: 2, padding: pad, countIncludePad: false }));
    // window sums 12, 9, 15, 9 over 4, 2, 2, 1 real positions
    expectClose(await run(excluding, seq(9)), [3, 4.5, 7.5, 9]);
  });

  it('global avg pool averages each channel over H and W', async () => {
    const g = tiny([2, 2, 2], (x) => globalAvgPool(x));
    expectClose(
      await run(
        g,
        nhwc(2, 2, 2, (h, w, c) => (c === 0 ? 1 : 10) * (2 * h + w + 1)),
      ),
      [2.5, 25],
    );
  });
});

describe('normalisation and elementwise ops', () => {
  it('batch_norm: gamma * (x - mean) / sqrt(var + eps) + beta per channel', async () => {
    const g = tiny([2, 1, 2], (x) => batchNorm(x, { epsilon: 1, name: 'bn' }), {
      'bn.gamma': [3, 0.5],
      'bn.beta': [1, -1],
      'bn.mean': [1, 2],
      'bn.var': [3, 15],
    });
    // sqrt(var + eps) = [2, 4]; channel 0: 3 * (x - 1) / 2 + 1; channel 1: 0.5 * (x - 2) / 4 - 1
    expectClose(await run(g, [1, 2, 3, 4]), [1, -1, 4, -0.75]);
  });

  it('batch_norm on [N, features] after a dense layer', async () => {
    const g = tiny([1, 1, 2], (x) => batchNorm(dense(flatten(x), 2, { bias: false, name: 'fc' }), { epsilon: 1e-9, name: 'bn' }), {
      'fc.w': [1, 0, 0, 1],
      'bn.gamma': [2, 1],
      'bn.beta': [0, 1],
      'bn.mean': [1, 1],
      'bn.var': [4, 1],
    });
    expectClose(await run(g, [5, 3]), [4, 3]);
  });

  it('scale_shift with both, either or neither weight', async () => {
    const image = [1, 2, 3, 4]; // 1x2x2: positions [1, 2] and [3, 4]
    const scaleShift = (scale: boolean, shift: boolean) =>
      tiny(
        [1, 2, 2],
        (x) => {
          const b = x.builder;
          if (scale) b.addWeight('s', [2], () => 0);
          if (shift) b.addWeight('t', [2], () => 0);
          return b.push(
            { op: 'scale_shift', id: 'ss', type: f32([]), input: x.id, scale: scale ? 's' : null, shift: shift ? 't' : null },
            4,
          );
        },
        { ...(scale ? { s: [2, -1] } : {}), ...(shift ? { t: [10, 0.5] } : {}) },
      );
    expectClose(await run(scaleShift(true, true), image), [12, -1.5, 16, -3.5]);
    expectClose(await run(scaleShift(true, false), image), [2, -2, 6, -4]);
    expectClose(await run(scaleShift(false, true), image), [11, 2.5, 13, 4.5]);
    expectClose(await run(scaleShift(false, false), image), [1, 2, 3, 4]);
  });

  it('relu and relu6', async () => {
    expectClose(
      await run(
        tiny([1, 1, 4], (x) => relu(x)),
        [-1, 0.5, 0, 3],
      ),
      [0, 0.5, 0, 3],
    );
    expectClose(
      await run(
        tiny([1, 1, 4], (x) => relu6(x)),
        [-1, 3, 7, 6],
      ),
      [0, 3, 6, 6],
    );
  });

  it('softmax over the last axis', async () => {
    expectClose(
      await run(
        tiny([1, 1, 3], (x) => softmax(x)),
        [1, 2, 3],
      ),
      [0.09003057, 0.24472847, 0.66524096],
    );
    // each position is normalised on its own: [0, 0] -> halves, [0, ln 3] -> quarters
    expectClose(
      await run(
        tiny([1, 2, 2], (x) => softmax(x)),
        [0, 0, 0, Math.log(3)],
      ),
      [0.5, 0.5, 0.25, 0.75],
    );
  });
});

describe('structure ops', () => {
  it('add of three operands', async () => {
    const g = tiny([1, 1, 2], (x) => add(x, relu(x), gather(x, [1, 0])));
    // [1, -2] + [1, 0] + [-2, 1]
    expectClose(await run(g, [1, -2]), [0, -1]);
  });

  it('add of one value three times', async () => {
    expectClose(
      await run(
        tiny([1, 1, 2], (x) => add(x, x, x)),
        [1, -2],
      ),
      [3, -6],
    );
  });

  it('concat appends channels at each position, in operand order', async () => {
    const g = tiny([1, 2, 2], (x) => concat(relu(x), x, gather(x, [0])));
    // positions [1, -2] and [-3, 4]
    expectClose(await run(g, [1, -2, -3, 4]), [1, 0, 1, -2, 1, 0, 4, -3, 4, -3]);
  });

  it('flatten keeps NHWC order: channel c at (h, w) lands at (h*W + w)*C + c', async () => {
    const g = tiny([2, 2, 2], (x) => flatten(x));
    // value 100c + 10h + w; an NCHW flatten would give 0, 1, 10, 11, 100, 101, 110, 111
    const image = nhwc(2, 2, 2, (h, w, c) => 100 * c + 10 * h + w);
    expectClose(await run(g, image), [0, 100, 1, 101, 10, 110, 11, 111]);
  });

  it('dense: [1, in] x [in, out] + bias, with and without a fused relu', async () => {
    const weights = { 'fc.w': [1, 2, 3, 4, 5, 6], 'fc.b': [0.5, -20, 0] };
    const g = tiny([1, 1, 2], (x) => dense(flatten(x), 3, { name: 'fc' }), weights);
    // [1, 2] x [[1, 2, 3], [4, 5, 6]] = [9, 12, 15]
    expectClose(await run(g, [1, 2]), [9.5, -8, 15]);
    expectClose(await run(withActivation(g, 'fc', 'relu'), [1, 2]), [9.5, 0, 15]);
    const noBias = tiny([1, 1, 2], (x) => dense(flatten(x), 3, { bias: false, name: 'fc' }), { 'fc.w': weights['fc.w'] });
    expectClose(await run(noBias, [1, 2]), [9, 12, 15]);
  });

  it('gather selects channels on the last axis, at every position, repeats allowed', async () => {
    const image = [1, 2, 3, 4, 5, 6]; // 1x2x3: positions [1, 2, 3] and [4, 5, 6]
    expectClose(
      await run(
        tiny([1, 2, 3], (x) => gather(x, [2, 0])),
        image,
      ),
      [3, 1, 6, 4],
    );
    expectClose(
      await run(
        tiny([1, 2, 3], (x) => gather(x, [1, 1])),
        image,
      ),
      [2, 2, 5, 5],
    );
  });
});
