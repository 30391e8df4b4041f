// Converters of elementwise ops: activations (the IR's elementwise ops, Clip), arithmetic (Add, Sum, Sub, Mul, Div),
// Softmax, and the no-ops of inference graphs (Identity, Dropout).
//
// Arithmetic between two computed tensors of one shape is a residual `add`. Arithmetic between a
// computed tensor and a per-channel constant (input normalisation, a MatMul's bias) is a
// `scale_shift`, or the bias of the dense node it follows. Arithmetic between constants is folded.
import type { ElementwiseOp } from '../../ir/elementwise.ts';
import type { Attributes } from './attributes.ts';
import type { ConstValue, ImportContext, IrValue } from './context.ts';
import { onnxShape } from './context.ts';
import { rowsChwToHwc } from './layout.ts';
import type { OnnxNode } from './proto.ts';
import { elementCount, type ConstTensor } from './tensor.ts';

/** An ONNX op that is one of the IR's elementwise ops (elementwise.ts): Relu, ... */
export const convertElementwise =
  (op: ElementwiseOp) =>
  (ctx: ImportContext, node: OnnxNode): void => {
    const x = ctx.value(node, 0);
    ctx.emit(node, { op, input: x.id }, x.flat);
  };

/** Clip(0, 6) is ReLU6 and Clip(0, +inf) is ReLU; the bounds are attributes before opset 11. */
export function convertClip(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  const min = ctx.opset < 11 ? attrs.optionalFloat('min') : ctx.optionalScalar(node, 1, 'min');
  const max = ctx.opset < 11 ? attrs.optionalFloat('max') : ctx.optionalScalar(node, 2, 'max');
  const unbounded = max === undefined || max === Infinity || max >= 3.4e38;
  if (min === 0 && max === 6) ctx.emit(node, { op: 'relu6', input: x.id }, x.flat);
  else if (min === 0 && unbounded) ctx.emit(node, { op: 'relu', input: x.id }, x.flat);
  else ctx.fail(node, `Clip(min=${min ?? '-inf'}, max=${max ?? 'inf'}) is not supported: slimc has ReLU (min 0) and ReLU6 (min 0, max 6)`);
}

/** Identity and Dropout (inference): the output is the input, whatever it is. */
export function convertIdentity(ctx: ImportContext, node: OnnxNode): void {
  if (node.opType === 'Dropout') {
    ctx.expectSingleOutput(node);
    if (ctx.inputName(node, 2) !== undefined && ctx.optionalScalar(node, 2, 'training_mode')) {
      ctx.fail(node, `training_mode is true; export the model in eval mode`);
    }
  }
  ctx.define(node.output[0], ctx.sym(node, 0));
}

export function convertSoftmax(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  const rank = x.shape.length;
  const axis = attrs.int('axis', ctx.opset < 13 ? 1 : -1);
  const normal = axis < 0 ? axis + rank : axis;
  // Before opset 13, Softmax flattens the axes from `axis` on: over C, H and W of an NCHW tensor,
  // which is the IR's channel softmax only when H = W = 1.
  const overChannels = rank === 2 ? normal === 1 : normal === 1 && (ctx.opset >= 13 || (x.shape[1] === 1 && x.shape[2] === 1));
  if (!overChannels)
    ctx.fail(node, `softmax over axis ${axis} of a rank-${rank} tensor is not supported: slimc's softmax runs over channels`);
  // Softmax commutes with reordering features, so a flatten kept in HWC order stays so.
  ctx.emit(node, { op: 'softmax', input: x.id }, x.flat);
}

const sameShape = (a: IrValue, b: IrValue) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** The activation `x * f(x)` is, when `gate` is f(x) for an f the IR has the product of. */
const SELF_GATED: Readonly<Partial<Record<string, 'silu' | 'hard_swish'>>> = { sigmoid: 'silu', hard_sigmoid: 'hard_swish' };

/**
 * Mul of two computed tensors: x * sigmoid(x) is silu and x * hard_sigmoid(x) hard_swish (as
 * PyTorch writes SiLU, and Hardswish before opset 14); otherwise an elementwise `mul`, of tensors
 * of one shape or of [N, C, H, W] by a per-channel gate [N, C, 1, 1] (squeeze-excite), in either
 * order.
 */
function emitMul(ctx: ImportContext, node: OnnxNode, a: IrValue, b: IrValue): void {
  for (const [x, gate] of [
    [a, b],
    [b, a],
  ] as const) {
    const producer = ctx.nodeById(gate.id);
    const activation =
      producer && producer.op in SELF_GATED && 'input' in producer && producer.input === x.id ? SELF_GATED[producer.op] : undefined;
    if (activation) return void ctx.emit(node, { op: activation, input: x.id }, x.flat);
  }
  const isGateOf = (g: IrValue, x: IrValue) =>
    x.shape.length === 4 &&
    g.shape.length === 4 &&
    g.shape[1] === 1 &&
    g.shape[2] === 1 &&
    g.shape[3] === x.shape[3] &&
    g.shape[0] === x.shape[0];
  if (sameShape(a, b)) {
    const sameOrder = JSON.stringify(a.flat) === JSON.stringify(b.flat);
    const [x, y] = sameOrder ? [a, b] : [ctx.inOnnxOrder(a), ctx.inOnnxOrder(b)];
    ctx.emit(node, { op: 'mul', inputs: [x.id, y.id] }, sameOrder ? a.flat : undefined);
  } else if (isGateOf(b, a) || isGateOf(a, b)) {
    const [x, gate] = isGateOf(b, a) ? [a, b] : [b, a];
    ctx.emit(node, { op: 'mul', inputs: [x.id, gate.id] });
  } else {
    ctx.fail(
      node,
      `Mul of [${onnxShape(a).join(',')}] and [${onnxShape(b).join(',')}] is not supported: slimc multiplies tensors of one shape, or [N, C, H, W] by a per-channel gate [N, C, 1, 1]`,
    );
  }
}

/** HardSigmoid as PyTorch's Hardsigmoid writes it: max(0, min(1, x / 6 + 1/2)). */
export function convertHardSigmoid(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.value(node, 0);
  const alpha = attrs.float('alpha', 0.2);
  const beta = attrs.float('beta', 0.5);
  if (Math.abs(alpha - 1 / 6) > 1e-6 || beta !== 0.5) {
    ctx.fail(node, `HardSigmoid(alpha=${alpha}, beta=${beta}) is not supported: slimc has PyTorch's Hardsigmoid (alpha = 1/6, beta = 0.5)`);
  }
  ctx.emit(node, { op: 'hard_sigmoid', input: x.id }, x.flat);
}

/** HardSwish (opset 14): x * HardSigmoid(x) with alpha = 1/6, PyTorch's Hardswish. */
export function convertHardSwish(ctx: ImportContext, node: OnnxNode): void {
  const x = ctx.value(node, 0);
  ctx.emit(node, { op: 'hard_swish', input: x.id }, x.flat);
}

/** Sum, or Add of two computed tensors: a residual add. */
function emitAdd(ctx: ImportContext, node: OnnxNode, operands: IrValue[]): void {
  const first = operands[0];
  operands.forEach((v, i) => {
    if (!sameShape(v, first)) {
      ctx.fail(
        node,
        `operand ${i} has shape [${onnxShape(v).join(',')}] but operand 0 has [${onnxShape(first).join(',')}]; slimc adds tensors of one shape (no broadcasting)`,
      );
    }
  });
  const sameOrder = operands.every((v) => JSON.stringify(v.flat) === JSON.stringify(first.flat));
  const inputs = sameOrder ? operands : operands.map((v) => ctx.inOnnxOrder(v));
  ctx.emit(node, { op: 'add', inputs: inputs.map((v) => v.id) }, sameOrder ? first.flat : undefined);
}

export function convertSum(ctx: ImportContext, node: OnnxNode): void {
  const operands = node.input.map((_, i) => ctx.value(node, i));
  if (operands.length === 1) ctx.define(node.output[0], operands[0]);
  else emitAdd(ctx, node, operands);
}

/**
 * A constant that broadcasts over one value per channel of `x` ([C], [C,1,1], [1,C,1,1], a scalar
 * for 4-D values; [F], [1,F] or a scalar for 2-D ones), as a vector in the IR's channel order.
 */
function perChannel(ctx: ImportContext, node: OnnxNode, c: ConstValue, x: IrValue): Float32Array {
  const t = c.tensor;
  const data = t.kind === 'float' ? t.data : Float32Array.from(t.data);
  const channels = x.shape[x.shape.length - 1];
  if (elementCount(t.dims) === 1) return new Float32Array(channels).fill(data[0]);
  const dims = [...t.dims];
  while (dims.length > 0 && dims[0] === 1) dims.shift();
  const ok =
    x.shape.length === 4
      ? dims.length === 3 && dims[0] === channels && dims[1] === 1 && dims[2] === 1
      : dims.length === 1 && dims[0] === channels;
  if (!ok) {
    ctx.fail(
      node,
      `constant '${c.name}' of shape [${t.dims.join(',')}] does not broadcast per channel over [${onnxShape(x).join(',')}]; slimc supports per-channel constants only`,
    );
  }
  return x.flat ? rowsChwToHwc(data, x.flat) : data.slice();
}

/** Folds arithmetic between constants (shape arithmetic): same shapes or a scalar operand. */
function foldBinary(ctx: ImportContext, node: OnnxNode, a: ConstTensor, b: ConstTensor): ConstTensor {
  const op = node.opType;
  const na = elementCount(a.dims);
  const nb = elementCount(b.dims);
  const dims = na >= nb ? a.dims : b.dims;
  if (na !== nb && na !== 1 && nb !== 1)
    ctx.fail(node, `folding ${op} of constants of shapes [${a.dims.join(',')}] and [${b.dims.join(',')}] is not supported`);
  const at = (t: ConstTensor, i: number) => t.data[elementCount(t.dims) === 1 ? 0 : i];
  const ints = a.kind === 'int' && b.kind === 'int';
  const apply = (x: number, y: number) =>
    op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : ints ? Math.trunc(x / y) : x / y;
  const values = Array.from({ length: Math.max(na, nb) }, (_, i) => apply(at(a, i), at(b, i)));
  return ints ? { kind: 'int', dims, data: values } : { kind: 'float', dims, data: Float32Array.from(values) };
}

/** Add, Sub, Mul, Div. */
export function convertArithmetic(ctx: ImportContext, node: OnnxNode): void {
  const op = node.opType;
  const a = ctx.sym(node, 0);
  const b = ctx.sym(node, 1);
  if (a.kind === 'const' && b.kind === 'const') {
    ctx.define(node.output[0], { kind: 'const', name: node.output[0], tensor: foldBinary(ctx, node, a.tensor, b.tensor) });
    return;
  }
  if (a.kind !== 'const' && b.kind !== 'const') {
    if (op === 'Mul') return emitMul(ctx, node, ctx.value(node, 0), ctx.value(node, 1));
    if (op !== 'Add')
      ctx.fail(
        node,
        `${op} of two computed tensors is not supported (slimc adds residuals and multiplies by gates; it does not ${op === 'Sub' ? 'subtract' : 'divide'} activations)`,
      );
    emitAdd(ctx, node, [ctx.value(node, 0), ctx.value(node, 1)]);
    return;
  }
  const constFirst = a.kind === 'const';
  if (constFirst && (op === 'Sub' || op === 'Div'))
    ctx.fail(node, `constant ${op === 'Sub' ? 'minus' : 'divided by'} a computed tensor is not supported`);
  const x = ctx.value(node, constFirst ? 1 : 0);
  const c = (constFirst ? a : b) as ConstValue;
  const vector = perChannel(ctx, node, c, x);
  const xName = node.input[constFirst ? 1 : 0];
  if (op === 'Add' && absorbAsBias(ctx, node, x, xName, c.name, vector)) return;
  const isScale = op === 'Mul' || op === 'Div';
  if (op === 'Sub') vector.forEach((v, i) => (vector[i] = -v));
  if (op === 'Div') vector.forEach((v, i) => (vector[i] = 1 / v));
  const weight = ctx.addWeight(c.name, [vector.length], vector);
  ctx.emit(node, { op: 'scale_shift', input: x.id, scale: isScale ? weight : null, shift: isScale ? null : weight }, x.flat);
}

/**
 * MatMul followed by Add of a bias vector (how some exporters write a Linear layer): the bias goes
 * into the dense node, when nothing else reads the MatMul's result.
 */
function absorbAsBias(ctx: ImportContext, node: OnnxNode, x: IrValue, xName: string, biasName: string, bias: Float32Array): boolean {
  const producer = ctx.nodeById(x.id);
  if (producer?.op !== 'dense' || producer.bias !== null || x.flat) return false;
  if (ctx.consumersOf(xName).length !== 1 || ctx.hasOtherNames(x.id, xName)) return false;
  ctx.replaceNode({ ...producer, bias: ctx.addWeight(biasName, [bias.length], bias) });
  ctx.define(node.output[0], x);
  return true;
}
