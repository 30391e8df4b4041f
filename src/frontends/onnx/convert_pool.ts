// Converters of pooling and padding: MaxPool, AveragePool, GlobalAveragePool, ReduceMean over
// H and W, and Pad (zero padding absorbed by the Conv or AveragePool after it; PyTorch writes
// AvgPool2d(count_include_pad=True) as Pad + AveragePool).
import type { Attributes } from './attributes.ts';
import type { ImportContext, SpatialPads } from './context.ts';
import { nodeName } from './context.ts';
import { windowInput } from './convert_layers.ts';
import type { OnnxNode } from './proto.ts';
import { windowOf } from './window.ts';

export function convertMaxPool(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const sym = ctx.sym(node, 0);
  if (sym.kind === 'padded')
    ctx.fail(node, `reads zero padding from Pad '${sym.by}'; a max pool pads with -inf, so slimc cannot merge them`);
  ctx.expectSingleOutput(node);
  const { x } = windowInput(ctx, node);
  const window = windowOf(ctx, node, attrs, [x.shape[1], x.shape[2]], { allowCeilMode: true });
  if (window.dilations[0] !== 1 || window.dilations[1] !== 1) ctx.fail(node, `dilated max pooling is not supported`);
  ctx.emit(node, { op: 'max_pool', input: x.id, kernel: window.kernel, strides: window.strides, padding: window.padding });
}

export function convertAveragePool(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const { x, extra } = windowInput(ctx, node);
  const countsPadding = attrs.int('count_include_pad', 0) !== 0;
  const ownPads = attrs.ints('pads', [0, 0, 0, 0]);
  if (extra && ownPads.some((p) => p !== 0) && !countsPadding) {
    ctx.fail(node, `pads that do not count (count_include_pad=0) after a Pad node whose zeros do count cannot be one average pool`);
  }
  const window = windowOf(ctx, node, attrs, [x.shape[1], x.shape[2]], { extra });
  if (window.dilations[0] !== 1 || window.dilations[1] !== 1) ctx.fail(node, `dilated average pooling is not supported`);
  // The zeros of a Pad node in front are values of the input: they count in the divisor.
  const countIncludePad = countsPadding || extra !== undefined;
  ctx.emit(node, { op: 'avg_pool', input: x.id, kernel: window.kernel, strides: window.strides, padding: window.padding, countIncludePad });
}

export function convertGlobalAveragePool(ctx: ImportContext, node: OnnxNode): void {
  const x = ctx.value(node, 0);
  if (x.shape.length !== 4) ctx.fail(node, `input has rank ${x.shape.length}; expected an NCHW tensor`);
  ctx.emit(node, { op: 'global_avg_pool', input: x.id });
}

/** ReduceMean over H and W is a global average pool (followed by a flatten when keepdims=0). */
export function convertReduceMean(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  const axesGiven =
    ctx.opset >= 18 ? (ctx.inputName(node, 1) !== undefined ? ctx.ints(node, 1, 'axes') : undefined) : attrs.optionalInts('axes');
  const axes = (axesGiven ?? []).map((a) => (a < 0 ? a + x.shape.length : a)).sort();
  if (x.shape.length !== 4 || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3) {
    ctx.fail(
      node,
      `ReduceMean over axes [${axesGiven?.join(',') ?? 'all'}] is not supported: slimc supports the mean over H and W (axes [2,3]) of an NCHW tensor`,
    );
  }
  if (attrs.int('keepdims', 1) !== 0) {
    ctx.emit(node, { op: 'global_avg_pool', input: x.id });
    return;
  }
  const pooled = ctx.addNode(`${nodeName(node)}.pool`, { op: 'global_avg_pool', input: x.id });
  ctx.emit(node, { op: 'flatten', input: pooled.id });
}

/** Pad with zeros on H and W: recorded, and absorbed by the Conv or AveragePool that reads it. */
export function convertPad(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  const mode = attrs.string('mode', 'constant');
  if (mode !== 'constant') ctx.fail(node, `mode '${mode}' is not supported (zero padding only)`);
  const old = ctx.opset < 11;
  const pads = old ? attrs.ints('pads') : ctx.ints(node, 1, 'pads');
  const value = old ? attrs.float('value', 0) : (ctx.optionalScalar(node, 2, 'constant_value') ?? 0);
  if (value !== 0) ctx.fail(node, `constant_value ${value} is not supported (zero padding only)`);
  const rank = x.shape.length;
  const axes =
    !old && ctx.inputName(node, 3) !== undefined ? ctx.ints(node, 3, 'axes').map((a) => (a < 0 ? a + rank : a)) : [...Array(rank).keys()];
  if (pads.length !== 2 * axes.length) ctx.fail(node, `pads has ${pads.length} values for ${axes.length} axes`);
  const before = new Array<number>(rank).fill(0);
  const after = new Array<number>(rank).fill(0);
  axes.forEach((a, i) => {
    before[a] = pads[i];
    after[a] = pads[i + axes.length];
  });
  if ([...before, ...after].some((p) => p < 0)) ctx.fail(node, `negative pads (cropping) are not supported`);
  if (before.every((p) => p === 0) && after.every((p) => p === 0)) {
    ctx.define(node.output[0], x);
    return;
  }
  if (rank !== 4 || before[0] + after[0] + before[1] + after[1] !== 0) {
    ctx.fail(node, `pads [${pads.join(',')}] pad more than H and W of an NCHW tensor`);
  }
  const spatial: SpatialPads = { top: before[2], bottom: after[2], left: before[3], right: after[3] };
  ctx.define(node.output[0], { kind: 'padded', source: x, pads: spatial, by: nodeName(node) });
}
