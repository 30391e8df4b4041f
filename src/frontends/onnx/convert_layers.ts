// Converters of the layers that carry weights: Conv, BatchNormalization, Gemm, MatMul.
// Weights move from ONNX's layouts to the IR's here (OIHW -> HWIO, [out, in] -> [in, out]), and
// keep their initializer names.
import { f32 } from '../../ir/types.ts';
import type { Attributes } from './attributes.ts';
import type { ImportContext, IrValue, SpatialPads } from './context.ts';
import { nodeName } from './context.ts';
import { oihwToHwio, rowsChwToHwc, transpose2d } from './layout.ts';
import type { OnnxNode } from './proto.ts';
import { elementCount } from './tensor.ts';
import { windowOf } from './window.ts';

/** The input of a windowed op, with the padding of a zero Pad node in front of it, if any. */
export function windowInput(ctx: ImportContext, node: OnnxNode): { x: IrValue; extra?: SpatialPads } {
  const sym = ctx.sym(node, 0);
  const padded = sym.kind === 'padded' ? { x: sym.source, extra: sym.pads } : { x: ctx.value(node, 0) };
  if (padded.x.shape.length !== 4)
    ctx.fail(node, `input has rank ${padded.x.shape.length}; slimc supports 2-D windows over NCHW tensors only`);
  return padded;
}

export function convertConv(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const { x, extra } = windowInput(ctx, node);
  const [n, h, w, cin] = x.shape;
  const weight = ctx.floats(node, 1, 'the weight');
  if (weight.dims.length !== 4)
    ctx.fail(node, `weight '${weight.name}' has shape [${weight.dims.join(',')}]; expected [out, in/groups, kh, kw]`);
  const [cout, perGroup, kh, kw] = weight.dims;
  const groups = attrs.int('group', 1);
  if (cin % groups !== 0 || perGroup * groups !== cin || cout % groups !== 0) {
    ctx.fail(node, `weight '${weight.name}' [${weight.dims.join(',')}] with group=${groups} does not fit ${cin} input channels`);
  }
  const window = windowOf(ctx, node, attrs, [h, w], { kernelFallback: [kh, kw], extra });
  if (window.kernel[0] !== kh || window.kernel[1] !== kw)
    ctx.fail(node, `kernel_shape ${window.kernel.join('x')} disagrees with the ${kh}x${kw} weight`);
  const filter = ctx.addWeight(weight.name, [kh, kw, perGroup, cout], oihwToHwio(weight.data, weight.dims));
  let bias: string | null = null;
  if (ctx.inputName(node, 2) !== undefined) {
    const b = ctx.floats(node, 2, 'the bias');
    if (elementCount(b.dims) !== cout) ctx.fail(node, `bias '${b.name}' has shape [${b.dims.join(',')}]; expected [${cout}]`);
    bias = ctx.addWeight(b.name, [cout], b.data);
  }
  ctx.emit(node, { op: 'conv2d', type: f32([n, 0, 0, cout]), input: x.id, filter, bias, ...window, groups, activation: 'none' });
}

/** The BN's name in reports and masks: its scale initializer's module path (`blocks.3.bn2`). */
function batchNormParams(scaleName: string, node: OnnxNode): string {
  const match = /^(.+)\.weight$/.exec(scaleName);
  return match ? match[1] : nodeName(node);
}

export function convertBatchNorm(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  if (attrs.int('training_mode', 0) !== 0) {
    ctx.fail(node, `training_mode=1: export the model in eval mode (model.eval()) with training=torch.onnx.TrainingMode.PRESERVE`);
  }
  ctx.expectSingleOutput(node);
  const channels = x.shape[x.shape.length - 1];
  const [scale, bias, mean, variance] = (['scale', 'B', 'input_mean', 'input_var'] as const).map((what, k) => {
    const p = ctx.floats(node, k + 1, what);
    if (elementCount(p.dims) !== channels) ctx.fail(node, `${what} '${p.name}' has shape [${p.dims.join(',')}]; expected [${channels}]`);
    // BatchNorm1d after a flatten kept in HWC order: its per-feature parameters follow that order.
    return x.flat ? rowsChwToHwc(p.data, x.flat) : p.data;
  });
  const params = ctx.freshParams(batchNormParams(ctx.constant(node, 1, 'scale').name, node));
  ctx.addWeight(`${params}.gamma`, [channels], scale);
  ctx.addWeight(`${params}.beta`, [channels], bias);
  ctx.addWeight(`${params}.mean`, [channels], mean);
  ctx.addWeight(`${params}.var`, [channels], variance);
  ctx.emit(node, { op: 'batch_norm', input: x.id, params, epsilon: attrs.float('epsilon', 1e-5) }, x.flat);
}

/** A bias given as [out], [1, out] or a scalar, as a vector of `out` values. */
function biasVector(
  ctx: ImportContext,
  node: OnnxNode,
  dims: readonly number[],
  data: Float32Array,
  out: number,
  name: string,
): Float32Array {
  if (elementCount(dims) === 1) return new Float32Array(out).fill(data[0]);
  if (elementCount(dims) === out && dims[dims.length - 1] === out) return data.slice();
  return ctx.fail(node, `bias '${name}' has shape [${dims.join(',')}]; expected [${out}]`);
}

/** The dense node of a Gemm or MatMul: `weight` is [in, out] in ONNX's feature order. */
function emitDense(
  ctx: ImportContext,
  node: OnnxNode,
  a: IrValue,
  weightName: string,
  weight: Float32Array,
  out: number,
  bias: Float32Array | null,
  biasName: string,
): void {
  const inFeatures = a.shape[1];
  // A flatten kept in HWC order feeds this layer: reorder the rows to read it (the IR's flatten is NHWC).
  const rows = a.flat ? rowsChwToHwc(weight, a.flat, out) : weight;
  const w = ctx.addWeight(weightName, [inFeatures, out], rows);
  const b = bias ? ctx.addWeight(biasName, [out], bias) : null;
  ctx.emit(node, { op: 'dense', type: f32([a.shape[0], out]), input: a.id, weight: w, bias: b, activation: 'none' });
}

function denseInput(ctx: ImportContext, node: OnnxNode): IrValue {
  const a = ctx.value(node, 0);
  if (a.shape.length !== 2)
    ctx.fail(node, `input has rank ${a.shape.length}; slimc supports ${node.opType} on [N, features] tensors (flatten first)`);
  return a;
}

export function convertGemm(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const a = denseInput(ctx, node);
  if (attrs.int('transA', 0) !== 0) ctx.fail(node, `transA=1 is not supported`);
  const b = ctx.floats(node, 1, 'B (the weight)');
  if (b.dims.length !== 2) ctx.fail(node, `weight '${b.name}' has shape [${b.dims.join(',')}]; expected a matrix`);
  const transB = attrs.int('transB', 0) !== 0;
  const [inFeatures, out] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  if (inFeatures !== a.shape[1])
    ctx.fail(node, `weight '${b.name}' [${b.dims.join(',')}] (transB=${+transB}) does not take ${a.shape[1]} features`);
  const alpha = attrs.float('alpha', 1);
  const beta = attrs.float('beta', 1);
  const weight = transB ? transpose2d(b.data, out, inFeatures) : b.data.slice();
  if (alpha !== 1) weight.forEach((v, i) => (weight[i] = v * alpha));
  let bias: Float32Array | null = null;
  let biasName = '';
  if (ctx.inputName(node, 2) !== undefined) {
    const c = ctx.floats(node, 2, 'C (the bias)');
    bias = biasVector(ctx, node, c.dims, c.data, out, c.name).map((v) => v * beta);
    biasName = c.name;
  }
  emitDense(ctx, node, a, b.name, weight, out, bias, biasName);
}

export function convertMatMul(ctx: ImportContext, node: OnnxNode): void {
  const a = denseInput(ctx, node);
  const b = ctx.floats(node, 1, 'the weight');
  if (b.dims.length !== 2 || b.dims[0] !== a.shape[1]) {
    ctx.fail(node, `weight '${b.name}' has shape [${b.dims.join(',')}]; expected [${a.shape[1]}, out]`);
  }
  emitDense(ctx, node, a, b.name, b.data.slice(), b.dims[1], null, '');
}
