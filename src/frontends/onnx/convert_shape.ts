// Converters of shape and indexing ops. Shapes are static after import, so Shape and the integer
// arithmetic PyTorch writes around `x.view(x.size(0), -1)` (Shape, Gather, Unsqueeze, Concat, ...)
// fold to constants, and the Reshape they feed becomes a flatten. On computed tensors: Flatten,
// Reshape to [N, -1], Squeeze of a 1x1 map, Concat over channels (DenseNet), Gather over channels
// with constant indices (the Network Slimming code's channel selection),
// Transpose(perm=[0,2,3,1]) in front of a flatten, and the Reshape-Transpose-Reshape channel
// shuffle (convert_channels.ts).
import type { Attributes } from './attributes.ts';
import { channelViewOf, closeChannelView, transposeChannelView } from './convert_channels.ts';
import type { ImportContext, IrValue, Sym } from './context.ts';
import { onnxShape } from './context.ts';
import { onnxIndexOfIrFeature } from './layout.ts';
import type { OnnxNode } from './proto.ts';
import { DataType } from './proto.ts';
import { decodeTensor, elementCount, type ConstTensor } from './tensor.ts';

const intTensor = (dims: readonly number[], data: readonly number[]): ConstTensor => ({ kind: 'int', dims, data });

function defineConst(ctx: ImportContext, node: OnnxNode, tensor: ConstTensor): void {
  ctx.define(node.output[0], { kind: 'const', name: node.output[0], tensor });
}

export function convertConstant(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const where = ctx.where(node);
  const t = attrs.tensor('value');
  if (t) return defineConst(ctx, node, decodeTensor(t, where));
  if (attrs.has('value_float'))
    return defineConst(ctx, node, { kind: 'float', dims: [], data: Float32Array.of(attrs.float('value_float')) });
  if (attrs.has('value_floats')) {
    const values = attrs.floats('value_floats');
    return defineConst(ctx, node, { kind: 'float', dims: [values.length], data: Float32Array.from(values) });
  }
  if (attrs.has('value_int')) return defineConst(ctx, node, intTensor([], [attrs.int('value_int')]));
  if (attrs.has('value_ints')) {
    const values = attrs.ints('value_ints');
    return defineConst(ctx, node, intTensor([values.length], values));
  }
  ctx.fail(node, `has no value slimc reads (attributes: ${attrs.names().join(', ') || 'none'})`);
}

/** The ONNX shape of whatever `sym` is. */
function shapeOf(sym: Sym): number[] {
  switch (sym.kind) {
    case 'value':
      return onnxShape(sym);
    case 'const':
      return [...sym.tensor.dims];
    case 'padded': {
      const [n, c, h, w] = onnxShape(sym.source);
      return [n, c, h + sym.pads.top + sym.pads.bottom, w + sym.pads.left + sym.pads.right];
    }
    case 'nhwc':
      return [...sym.source.shape];
    case 'channels': {
      const [n, h, w] = sym.source.shape;
      return [n, ...sym.factors, h, w];
    }
  }
}

export function convertShape(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const shape = shapeOf(ctx.sym(node, 0));
  const clamp = (a: number) => Math.min(Math.max(a < 0 ? a + shape.length : a, 0), shape.length);
  const start = clamp(attrs.int('start', 0));
  const end = clamp(attrs.int('end', shape.length));
  const dims = shape.slice(start, end);
  defineConst(ctx, node, intTensor([dims.length], dims));
}

const normalAxis = (ctx: ImportContext, node: OnnxNode, axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) ctx.fail(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
};

export function convertGather(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const data = ctx.sym(node, 0);
  const indicesTensor = ctx.constant(node, 1, 'indices').tensor;
  if (indicesTensor.kind !== 'int') ctx.fail(node, `indices must be integers`);
  if (data.kind === 'const') {
    // Shape arithmetic: gathering from a 1-D constant (a shape).
    const t = data.tensor;
    if (t.dims.length !== 1 || normalAxis(ctx, node, attrs.int('axis', 0), 1) !== 0) {
      ctx.fail(node, `folding Gather of a constant of shape [${t.dims.join(',')}] is not supported (1-D constants only)`);
    }
    const n = t.dims[0];
    const picked = indicesTensor.data.map((i) => t.data[i < 0 ? i + n : i]);
    const tensor: ConstTensor =
      t.kind === 'int'
        ? intTensor(indicesTensor.dims, picked)
        : { kind: 'float', dims: indicesTensor.dims, data: Float32Array.from(picked) };
    return defineConst(ctx, node, tensor);
  }
  const x = ctx.value(node, 0);
  const rank = x.shape.length;
  if (normalAxis(ctx, node, attrs.int('axis', 0), rank) !== 1) {
    ctx.fail(node, `Gather on axis ${attrs.int('axis', 0)} of a computed tensor is not supported: slimc gathers channels (axis 1)`);
  }
  if (indicesTensor.dims.length !== 1) {
    ctx.fail(node, `indices of shape [${indicesTensor.dims.join(',')}] are not supported: channel selection takes a 1-D list`);
  }
  const channels = x.shape[rank - 1];
  const onnxIndices = indicesTensor.data.map((i) => (i < 0 ? i + channels : i));
  // Gathering from a flatten kept in HWC order: select by where each ONNX feature lives.
  const irIndexOfOnnx = new Array<number>(channels);
  if (x.flat) onnxIndexOfIrFeature(x.flat).forEach((onnx, ir) => (irIndexOfOnnx[onnx] = ir));
  const indices = x.flat ? onnxIndices.map((i) => irIndexOfOnnx[i] ?? i) : onnxIndices;
  ctx.emit(node, { op: 'gather', input: x.id, indices });
}

/** Axes of Unsqueeze/Squeeze: an attribute before opset 13, an input from then on. */
function axesOf(ctx: ImportContext, node: OnnxNode, attrs: Attributes): number[] | undefined {
  if (ctx.opset < 13) return attrs.optionalInts('axes');
  return ctx.inputName(node, 1) !== undefined ? ctx.ints(node, 1, 'axes') : undefined;
}

export function convertUnsqueeze(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const t = ctx.constant(node, 0, 'the data (slimc folds Unsqueeze of constants only)').tensor;
  const axes = axesOf(ctx, node, attrs);
  if (!axes) return ctx.fail(node, `axes are required`);
  const rank = t.dims.length + axes.length;
  const inserted = new Set(axes.map((a) => normalAxis(ctx, node, a, rank)));
  const rest = [...t.dims];
  const dims = Array.from({ length: rank }, (_, i) => (inserted.has(i) ? 1 : (rest.shift() ?? 1)));
  defineConst(ctx, node, { ...t, dims } as ConstTensor);
}

export function convertSqueeze(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const data = ctx.sym(node, 0);
  const shape = shapeOf(data);
  const given = axesOf(ctx, node, attrs);
  const axes = new Set((given ?? shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normalAxis(ctx, node, a, shape.length)));
  const dims = shape.filter((_, i) => !axes.has(i));
  if (data.kind === 'const') return defineConst(ctx, node, { ...data.tensor, dims } as ConstTensor);
  const x = ctx.value(node, 0);
  // [N, C, 1, 1] -> [N, C] (after a global pool): the IR's flatten, with nothing to reorder.
  if (x.shape.length === 4 && axes.size === 2 && axes.has(2) && axes.has(3) && x.shape[1] === 1 && x.shape[2] === 1) {
    ctx.emit(node, { op: 'flatten', input: x.id });
    return;
  }
  ctx.fail(
    node,
    `squeezing axes [${[...axes].join(',')}] of [${shape.join(',')}] is not supported: slimc squeezes H and W of a 1x1 map only`,
  );
}

export function convertConcat(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const syms = node.input.map((_, i) => ctx.sym(node, i));
  const axis = attrs.int('axis');
  if (syms.every((s) => s.kind === 'const')) {
    const tensors = syms.map((s) => (s.kind === 'const' ? s.tensor : intTensor([0], [])));
    if (tensors.some((t) => t.dims.length !== 1)) ctx.fail(node, `folding Concat of constants is supported for 1-D constants only`);
    const values = tensors.flatMap((t) => [...t.data]);
    const tensor: ConstTensor = tensors.every((t) => t.kind === 'int')
      ? intTensor([values.length], values)
      : { kind: 'float', dims: [values.length], data: Float32Array.from(values) };
    return defineConst(ctx, node, tensor);
  }
  const values = node.input.map((_, i) => ctx.value(node, i));
  const rank = values[0].shape.length;
  if (normalAxis(ctx, node, axis, rank) !== 1)
    ctx.fail(node, `Concat on axis ${axis} is not supported: slimc concatenates channels (axis 1)`);
  const inputs = values.map((v) => ctx.inOnnxOrder(v));
  ctx.emit(node, { op: 'concat', inputs: inputs.map((v) => v.id) });
}

const FLOAT_TYPES: readonly number[] = [DataType.FLOAT, DataType.DOUBLE, 10, 16];

export function convertCast(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const to = attrs.int('to');
  const data = ctx.sym(node, 0);
  if (data.kind !== 'const') {
    if (to !== DataType.FLOAT) ctx.fail(node, `casting a computed tensor to anything but float is not supported`);
    ctx.define(node.output[0], data);
    return;
  }
  const t = data.tensor;
  const values = [...t.data];
  const tensor: ConstTensor = FLOAT_TYPES.includes(to)
    ? { kind: 'float', dims: t.dims, data: Float32Array.from(values) }
    : intTensor(t.dims, values.map(Math.trunc));
  defineConst(ctx, node, tensor);
}

/** A flatten of `x`: in the IR's NHWC order, remembering ONNX's CHW order when the map is not 1x1. */
function emitFlatten(ctx: ImportContext, node: OnnxNode, x: IrValue, nhwcAlready: boolean): void {
  const [, h, w, c] = x.shape;
  const flat = !nhwcAlready && h * w > 1 ? { channels: c, height: h, width: w } : undefined;
  ctx.emit(node, { op: 'flatten', input: x.id }, flat);
}

export function convertFlatten(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const sym = ctx.sym(node, 0);
  const x = sym.kind === 'nhwc' ? sym.source : ctx.value(node, 0);
  const axis = attrs.int('axis', 1);
  const rank = x.shape.length;
  if (normalAxis(ctx, node, axis, rank) !== 1) ctx.fail(node, `Flatten with axis ${axis} is not supported (axis 1 only)`);
  if (rank === 2) ctx.define(node.output[0], x);
  else emitFlatten(ctx, node, x, sym.kind === 'nhwc');
}

/** Target dims of a Reshape, with 0 (copy, unless allowzero) and -1 (infer) resolved. */
function reshapeTarget(
  ctx: ImportContext,
  node: OnnxNode,
  input: readonly number[],
  target: readonly number[],
  allowZero: boolean,
): number[] {
  const dims = target.map((d, i) => (d === 0 && !allowZero ? input[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) ctx.fail(node, `shape [${target.join(',')}] has more than one -1`);
  const total = elementCount(input);
  if (unknown === 1) return dims.map((d) => (d === -1 ? total / known : d));
  if (known !== total) ctx.fail(node, `cannot reshape [${input.join(',')}] to [${target.join(',')}]`);
  return dims;
}

export function convertReshape(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const data = ctx.sym(node, 0);
  const target = ctx.ints(node, 1, 'shape');
  const input = shapeOf(data);
  const dims = reshapeTarget(ctx, node, input, target, attrs.int('allowzero', 0) !== 0);
  if (data.kind === 'const') return defineConst(ctx, node, { ...data.tensor, dims } as ConstTensor);
  if (data.kind === 'channels') return closeChannelView(ctx, node, data, dims);
  const x = data.kind === 'nhwc' ? data.source : ctx.value(node, 0);
  const view = data.kind === 'value' ? channelViewOf(x, dims, node.name || node.output[0]) : undefined;
  if (view) return ctx.define(node.output[0], view);
  const same = dims.length === input.length && dims.every((d, i) => d === input[i]);
  if (same && data.kind !== 'nhwc') {
    ctx.define(node.output[0], x);
    return;
  }
  if (input.length === 4 && dims.length === 2 && dims[0] === input[0]) {
    emitFlatten(ctx, node, x, data.kind === 'nhwc');
    return;
  }
  ctx.fail(
    node,
    `reshaping [${input.join(',')}] to [${dims.join(',')}] is not supported: slimc reshapes [N, C, H, W] to [N, C*H*W] (a flatten), or splits C into several axes for a channel shuffle`,
  );
}

export function convertTranspose(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const perm = attrs.optionalInts('perm') ?? [];
  const data = ctx.sym(node, 0);
  if (data.kind === 'channels') return ctx.define(node.output[0], transposeChannelView(ctx, node, data, perm));
  const x = ctx.value(node, 0);
  if (x.shape.length !== 4 || perm.join(',') !== '0,2,3,1') {
    ctx.fail(
      node,
      `Transpose with perm [${perm.join(',')}] is not supported: slimc reads NCHW to NHWC (perm [0,2,3,1]) in front of a flatten only`,
    );
  }
  ctx.define(node.output[0], { kind: 'nhwc', source: x, by: node.name || node.output[0] });
}
