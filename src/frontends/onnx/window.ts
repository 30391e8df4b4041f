// The sliding-window attributes of Conv, MaxPool and AveragePool (kernel_shape, strides,
// dilations, pads, auto_pad, ceil_mode) as the IR's kernel, strides, dilations and Padding.
// ONNX pads are [top, left, bottom, right]; PyTorch writes them explicitly (symmetric), which
// becomes explicit IR padding. A zero Pad node in front adds to them.
import type { Padding, Pair } from '../../ir/types.ts';
import type { Attributes } from './attributes.ts';
import type { ImportContext, SpatialPads } from './context.ts';
import type { OnnxNode } from './proto.ts';

export interface Window {
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly dilations: Pair;
  readonly padding: Padding;
}

const NO_PADS: SpatialPads = { top: 0, bottom: 0, left: 0, right: 0 };

const isZero = (p: SpatialPads) => p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0;

function pair(ctx: ImportContext, node: OnnxNode, name: string, values: readonly number[]): Pair {
  if (values.length !== 2) ctx.fail(node, `${name} has ${values.length} values; slimc supports 2-D windows only`);
  return [values[0], values[1]];
}

/** SAME_LOWER/SAME_UPPER padding as explicit amounts (ONNX puts the odd one at the end for UPPER). */
function autoPads(inSize: number, kernel: number, stride: number, dilation: number, lower: boolean): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const small = Math.floor(total / 2);
  return lower ? [total - small, small] : [small, total - small];
}

/**
 * The window of `node` over an NHWC input of spatial size [h, w]. `kernelFallback` is the
 * kernel of a Conv's weight (kernel_shape is optional there); `extra` is the padding of a Pad
 * node in front; `ceilMode` is MaxPool's: the last partial window becomes extra end padding.
 */
export function windowOf(
  ctx: ImportContext,
  node: OnnxNode,
  attrs: Attributes,
  [h, w]: readonly [number, number],
  options: { kernelFallback?: Pair; extra?: SpatialPads; allowCeilMode?: boolean } = {},
): Window {
  const kernelShape = attrs.optionalInts('kernel_shape') ?? options.kernelFallback;
  if (!kernelShape) return ctx.fail(node, `attribute 'kernel_shape' is required`);
  const kernel = pair(ctx, node, 'kernel_shape', kernelShape);
  const strides = pair(ctx, node, 'strides', attrs.ints('strides', [1, 1]));
  const dilations = pair(ctx, node, 'dilations', attrs.ints('dilations', [1, 1]));
  const extra = options.extra ?? NO_PADS;
  const autoPad = attrs.string('auto_pad', 'NOTSET');

  if (autoPad !== 'NOTSET') {
    if (!isZero(extra)) ctx.fail(node, `auto_pad=${autoPad} after a Pad node is not supported; export with explicit pads`);
    if (autoPad === 'VALID') return { kernel, strides, dilations, padding: { kind: 'valid' } };
    if (autoPad === 'SAME_UPPER') return { kernel, strides, dilations, padding: { kind: 'same' } };
    if (autoPad !== 'SAME_LOWER') ctx.fail(node, `auto_pad=${autoPad} is not an ONNX padding mode`);
    const [top, bottom] = autoPads(h, kernel[0], strides[0], dilations[0], true);
    const [left, right] = autoPads(w, kernel[1], strides[1], dilations[1], true);
    return { kernel, strides, dilations, padding: { kind: 'explicit', top, bottom, left, right } };
  }

  const pads = attrs.ints('pads', [0, 0, 0, 0]);
  if (pads.length !== 4) ctx.fail(node, `pads has ${pads.length} values; slimc supports 2-D windows only`);
  if (pads.some((p) => p < 0)) ctx.fail(node, `negative pads [${pads.join(',')}] (cropping) are not supported`);
  let total: SpatialPads = {
    top: pads[0] + extra.top,
    left: pads[1] + extra.left,
    bottom: pads[2] + extra.bottom,
    right: pads[3] + extra.right,
  };

  if (attrs.int('ceil_mode', 0) !== 0) {
    // ceil_mode keeps a last window that starts inside the input but overhangs its end. For a max
    // pool that is the same as padding the end enough for the window to fit.
    const overhang = (size: number, before: number, after: number, k: number, s: number, d: number) => {
      const span = size + before + after;
      const effective = (k - 1) * d + 1;
      let out = Math.ceil((span - effective) / s) + 1;
      if ((out - 1) * s >= size + before) out -= 1; // PyTorch: the last window must start inside
      return Math.max((out - 1) * s + effective - span, 0);
    };
    const down = overhang(h, total.top, total.bottom, kernel[0], strides[0], dilations[0]);
    const across = overhang(w, total.left, total.right, kernel[1], strides[1], dilations[1]);
    if ((down > 0 || across > 0) && !options.allowCeilMode) {
      ctx.fail(node, `ceil_mode=1 changes the output size here, which slimc supports for MaxPool only`);
    }
    total = { ...total, bottom: total.bottom + down, right: total.right + across };
  }
  const padding: Padding = isZero(total) ? { kind: 'valid' } : { kind: 'explicit', ...total };
  return { kernel, strides, dilations, padding };
}
