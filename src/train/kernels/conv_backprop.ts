// Convolution gradients written as forward convolutions, which every backend runs fast.
//
// For a conv y[o] = sum_k x[o*s + k*d - pad] * w[k] (stride s, dilation d, per spatial axis):
// - filter gradient: dw[k] = sum_o x[k*d + o*s - pad] * dy[o] is itself a conv of x with dy as
//   the filter, with the roles of stride and dilation swapped (batch and channels trade places);
// - input gradient: dx[i] = sum_k dyd[i + pad - k*d] * w[k], where dyd is dy with s-1 zeros
//   between samples: a stride-1 conv of dyd with the spatially flipped filter.
// tfjs-backend-wasm lacks Conv2DBackpropFilter and both depthwise backprops, and its
// Conv2DBackpropInput runs several times slower than the same work done as a forward conv.
// These functions are plain tfjs ops, so they also give gradients of dilated convs, which
// tfjs's own gradient functions refuse.
import * as tf from '@tensorflow/tfjs-core';

type Pair = readonly [number, number];

/** A conv's spatial geometry, with its padding resolved to amounts. */
export interface ConvGeometry {
  readonly strides: Pair;
  readonly dilations: Pair;
  /** Padding before and after, rows then columns: [top, bottom, left, right]. */
  readonly pads: readonly [number, number, number, number];
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The geometry of a conv whose tfjs attributes are given (pad as tfjs takes it). */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  strides: number | Pair,
  dilations: number | Pair,
  pad: 'same' | 'valid' | number | ExplicitPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    [...xShape] as [number, number, number, number],
    [...filterShape] as [number, number, number, number],
    strides as number | [number, number],
    dilations as number | [number, number],
    pad,
    dimRoundingMode,
    depthwise,
  );
  const p = info.padInfo;
  return {
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    pads: [p.top, p.bottom, p.left, p.right],
  };
}

const explicit = (top: number, bottom: number, left: number, right: number): ExplicitPad => [
  [0, 0],
  [top, bottom],
  [left, right],
  [0, 0],
];

/** Runs a conv kernel directly: the ops refuse strides and dilations both above 1. */
function rawKernel(
  kernel: 'Conv2D' | 'DepthwiseConv2dNative',
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  strides: Pair,
  dilations: Pair,
  pad: ExplicitPad,
): tf.Tensor4D {
  const attrs = { strides: [...strides], pad, dataFormat: 'NHWC', dilations: [...dilations], dimRoundingMode: undefined };
  return tf.engine().runKernel(kernel, { x, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

const rawConv = (x: tf.Tensor4D, filter: tf.Tensor4D, strides: Pair, dilations: Pair, pad: ExplicitPad) =>
  rawKernel('Conv2D', x, filter, strides, dilations, pad);
const rawDepthwise = (x: tf.Tensor4D, filter: tf.Tensor4D, strides: Pair, dilations: Pair, pad: ExplicitPad) =>
  rawKernel('DepthwiseConv2dNative', x, filter, strides, dilations, pad);

/**
 * Bottom (right) padding a filter-gradient conv needs so that its output has `kernel` rows:
 * the last tap reads row (kernel-1)*d + (outSize-1)*s - before. Rows past it are never read.
 */
const filterGradTail = (inSize: number, outSize: number, kernel: number, stride: number, dilation: number, before: number) =>
  Math.max(0, (kernel - 1) * dilation + (outSize - 1) * stride + 1 - inSize - before);

/** dL/dfilter of a conv2d (groups = 1): x [N,H,W,Ci], dy [N,Ho,Wo,Co] -> [kh,kw,Ci,Co]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    const [top, , left] = g.pads;
    const [, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    // Channels become the batch and the batch the reduced channels: [Ci,H,W,N] conv [Ho,Wo,N,Co].
    const xT = tf.transpose(x, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    const pad = explicit(
      top,
      filterGradTail(h, ho, kh, g.strides[0], g.dilations[0], top),
      left,
      filterGradTail(w, wo, kw, g.strides[1], g.dilations[1], left),
    );
    const full = rawConv(xT, dyT, g.dilations, g.strides, pad);
    const taps = tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]);
    return tf.transpose(taps, [1, 2, 0, 3]);
  });
}

/** Inserts s-1 zeros after every row (axis 1) and column (axis 2): [N,H,W,C] -> [N,H*sh,W*sw,C]. */
function interleaveZeros(t: tf.Tensor4D, strides: Pair): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  let out = t;
  if (strides[0] > 1) {
    out = tf.reshape(
      tf.pad(tf.reshape(out, [n, h, 1, w * c]), [
        [0, 0],
        [0, 0],
        [0, strides[0] - 1],
        [0, 0],
      ]),
      [n, h * strides[0], w, c],
    );
  }
  const rows = out.shape[1];
  if (strides[1] > 1) {
    out = tf.reshape(
      tf.pad(tf.reshape(out, [n * rows, w, 1, c]), [
        [0, 0],
        [0, 0],
        [0, strides[1] - 1],
        [0, 0],
      ]),
      [n, rows, w * strides[1], c],
    );
  }
  return out;
}

/**
 * dy with zeros between samples, framed so that a stride-1 conv with the flipped filter
 * (dilation d) yields exactly [N,H,W,*]: returns the tensor and the padding to apply.
 * Frames wider than needed on either side are cropped instead (explicit padding larger than
 * the kernel reach).
 */
function dilatedFrame(dy: tf.Tensor4D, inShape: readonly number[], kernel: Pair, g: ConvGeometry): [tf.Tensor4D, ExplicitPad] {
  const [, ho, wo] = dy.shape;
  const [, h, w] = inShape;
  const spread = interleaveZeros(dy, g.strides);
  // Before: (k-1)*d - pad rows; after: enough rows to reach H outputs, less the s-1 zeros that
  // interleaving left after the last sample.
  const beforeH = (kernel[0] - 1) * g.dilations[0] - g.pads[0];
  const afterH = h - 1 + g.pads[0] - (ho - 1) * g.strides[0] - (g.strides[0] - 1);
  const beforeW = (kernel[1] - 1) * g.dilations[1] - g.pads[2];
  const afterW = w - 1 + g.pads[2] - (wo - 1) * g.strides[1] - (g.strides[1] - 1);
  const crop = [Math.max(0, -beforeH), Math.max(0, -afterH), Math.max(0, -beforeW), Math.max(0, -afterW)];
  const [, sh, sw, c] = spread.shape;
  const cropped = crop.some((v) => v > 0)
    ? tf.slice(spread, [0, crop[0], crop[2], 0], [-1, sh - crop[0] - crop[1], sw - crop[2] - crop[3], c])
    : spread;
  return [cropped, explicit(Math.max(0, beforeH), Math.max(0, afterH), Math.max(0, beforeW), Math.max(0, afterW))];
}

/** dL/dx of a conv2d (groups = 1): dy [N,Ho,Wo,Co], filter [kh,kw,Ci,Co] -> [N,H,W,Ci]. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [framed, pad] = dilatedFrame(dy, inShape, [kh, kw], g);
    const flipped = flippedFilter(filter);
    return rawConv(framed, flipped, [1, 1], g.dilations, pad);
  });
}

/**
 * The filter [kh,kw,Ci,Co] with its taps reversed and its channels exchanged: [kh,kw,Co,Ci].
 * One loop over the (small) filter: tfjs-backend-wasm's Reverse and Transpose kernels cost
 * more per call than the whole copy.
 */
export function flippedFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const w = filter.dataSync();
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const from = ((kh - 1 - y) * kw + (kw - 1 - x)) * ci * co;
      const to = (y * kw + x) * co * ci;
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[to + o * ci + i] = w[from + i * co + o];
    }
  }
  return tf.tensor4d(out, [kh, kw, co, ci], 'float32');
}

/**
 * dL/dx of a depthwise conv: dy [N,Ho,Wo,C*m], filter [kh,kw,C,m] -> [N,H,W,C].
 * Output channel c*m + j reads input channel c through filter[:,:,c,j].
 */
export function depthwiseInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filter.shape;
    const flipped = tf.reverse(filter, [0, 1]);
    const parts = multiplierSlices(dy, c, m).map((dyJ, j) => {
      const [framed, pad] = dilatedFrame(dyJ, inShape, [kh, kw], g);
      const filterJ = m === 1 ? flipped : tf.slice(flipped, [0, 0, 0, j], [kh, kw, c, 1]);
      return rawDepthwise(framed, filterJ, [1, 1], g.dilations, pad);
    });
    return parts.length === 1 ? parts[0] : (tf.addN(parts) as tf.Tensor4D);
  });
}

/**
 * dL/dfilter of a depthwise conv: x [N,H,W,C], dy [N,Ho,Wo,C*m] -> [kh,kw,C,m].
 * Each (sample, channel) pair is its own depthwise channel of one big image, dy the filter;
 * the batch is summed afterwards.
 */
export function depthwiseFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: readonly number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const [top, , left] = g.pads;
    const image = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]) as tf.Tensor4D;
    const pad = explicit(
      top,
      filterGradTail(h, ho, kh, g.strides[0], g.dilations[0], top),
      left,
      filterGradTail(w, wo, kw, g.strides[1], g.dilations[1], left),
    );
    const parts = multiplierSlices(dy, c, m).map((dyJ) => {
      const taps = tf.reshape(tf.transpose(dyJ, [1, 2, 0, 3]), [ho, wo, n * c, 1]) as tf.Tensor4D;
      const full = rawDepthwise(image, taps, g.dilations, g.strides, pad);
      const perSample = tf.reshape(tf.slice(full, [0, 0, 0, 0], [1, kh, kw, n * c]), [kh, kw, n, c]);
      return tf.reshape(tf.sum(perSample, 2), [kh, kw, c, 1]) as tf.Tensor4D;
    });
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 3) as tf.Tensor4D);
  });
}

/** dy's channels c*m + j for each j, as m tensors of C channels. */
function multiplierSlices(dy: tf.Tensor4D, c: number, m: number): tf.Tensor4D[] {
  if (m === 1) return [dy];
  const [n, ho, wo] = dy.shape;
  const split = tf.reshape(dy, [n, ho, wo, c, m]);
  return Array.from({ length: m }, (_, j) => tf.reshape(tf.slice(split, [0, 0, 0, 0, j], [n, ho, wo, c, 1]), [n, ho, wo, c]));
}
