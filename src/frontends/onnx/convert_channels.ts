// Channel selections written as slicing and reshaping, imported as the IR's `gather`:
// - Slice on the channel axis (ShuffleNetV2's x.chunk(2, dim=1) from opset 13 on) and Split on
//   the channel axis: each output selects a range of channels;
// - the channel shuffle, Reshape [N, C, H, W] -> [N, g, C/g, H, W], Transpose of the channel
//   axes, Reshape back to [N, C, H, W]: a permutation of channels.
// Between the two reshapes the tensor is a `channels` view: the source value, the factors its
// channel axis was split into, and for every position of those axes (row-major) the source
// channel found there. Only reshapes and transposes that keep N, H and W in place make such a
// view, so the result is exactly a channel permutation; anything else is an error naming the node.
import type { Attributes } from './attributes.ts';
import type { ChannelView, ImportContext, IrValue } from './context.ts';
import { onnxShape } from './context.ts';
import type { OnnxNode } from './proto.ts';
import type { ConstTensor } from './tensor.ts';

/** ONNX Slice semantics for one axis: the indices selected from `length` elements. */
export function sliceIndices(length: number, start: number, end: number, step: number): number[] {
  const clampStart = (v: number) => (step > 0 ? Math.min(Math.max(v, 0), length) : Math.min(Math.max(v, -1), length - 1));
  const s = clampStart(start < 0 ? start + length : start);
  const e = clampStart(end < 0 ? end + length : end);
  const out: number[] = [];
  if (step > 0) for (let i = s; i < e; i += step) out.push(i);
  else for (let i = s; i > e; i += step) out.push(i);
  return out;
}

const channelAxis = (rank: number, axis: number) => (axis < 0 ? axis + rank : axis);

/** A gather of `x`'s channels (none when it selects every channel in order). */
function selectChannels(ctx: ImportContext, node: OnnxNode, k: number, x: IrValue, indices: readonly number[]): void {
  const identity = indices.length === x.shape[x.shape.length - 1] && indices.every((c, i) => c === i);
  if (identity) ctx.define(node.output[k], x);
  else
    ctx.define(
      node.output[k],
      ctx.addNode(k === 0 ? nodeNameOf(node) : `${nodeNameOf(node)}_${k}`, { op: 'gather', input: x.id, indices: [...indices] }),
    );
}

const nodeNameOf = (node: OnnxNode) => node.name || node.output[0];

export function convertSlice(ctx: ImportContext, node: OnnxNode): void {
  const data = ctx.sym(node, 0);
  const starts = ctx.ints(node, 1, 'starts');
  const ends = ctx.ints(node, 2, 'ends');
  const axes = ctx.inputName(node, 3) !== undefined ? ctx.ints(node, 3, 'axes') : starts.map((_, i) => i);
  const steps = ctx.inputName(node, 4) !== undefined ? ctx.ints(node, 4, 'steps') : starts.map(() => 1);
  if (steps.some((s) => s === 0)) ctx.fail(node, `a step of 0 is not allowed`);
  if (data.kind === 'const') {
    // Shape arithmetic: slicing a 1-D constant (a shape).
    const t = data.tensor;
    if (t.dims.length !== 1 || axes.some((a) => channelAxis(1, a) !== 0))
      ctx.fail(node, `folding Slice of a constant of shape [${t.dims.join(',')}] is not supported (1-D constants only)`);
    const picked = sliceIndices(t.dims[0], starts[0], ends[0], steps[0]).map((i) => t.data[i]);
    const tensor: ConstTensor =
      t.kind === 'int'
        ? { kind: 'int', dims: [picked.length], data: picked }
        : { kind: 'float', dims: [picked.length], data: Float32Array.from(picked) };
    ctx.define(node.output[0], { kind: 'const', name: node.output[0], tensor });
    return;
  }
  const x = ctx.inOnnxOrder(ctx.value(node, 0));
  const shape = onnxShape(x);
  let channels: number[] | undefined;
  axes.forEach((axis, i) => {
    const a = channelAxis(shape.length, axis);
    if (a < 0 || a >= shape.length) ctx.fail(node, `axis ${axis} is out of range for rank ${shape.length}`);
    const picked = sliceIndices(shape[a], starts[i], ends[i], steps[i]);
    if (a === 1) channels = picked;
    else if (picked.length !== shape[a] || picked.some((p, j) => p !== j)) {
      ctx.fail(node, `slicing axis ${a} of [${shape.join(',')}] is not supported: slimc slices channels (axis 1) only`);
    }
  });
  if (channels?.length === 0) ctx.fail(node, `the slice selects no channel`);
  selectChannels(ctx, node, 0, x, channels ?? Array.from({ length: shape[1] }, (_, i) => i));
}

/** Split: the sizes are an input from opset 13, an attribute before, or even parts (num_outputs, opset 18). */
export function convertSplit(ctx: ImportContext, node: OnnxNode, attrs: Attributes): void {
  const x = ctx.inOnnxOrder(ctx.value(node, 0));
  const shape = onnxShape(x);
  const axis = channelAxis(shape.length, attrs.int('axis', 0));
  if (axis !== 1) ctx.fail(node, `Split on axis ${attrs.int('axis', 0)} is not supported: slimc splits channels (axis 1)`);
  const total = shape[1];
  const outputs = node.output.length;
  const given =
    ctx.opset >= 13 ? (ctx.inputName(node, 1) !== undefined ? ctx.ints(node, 1, 'split') : undefined) : attrs.optionalInts('split');
  const part = Math.ceil(total / outputs);
  const sizes = given ?? Array.from({ length: outputs }, (_, k) => Math.max(0, Math.min(part, total - k * part)));
  if (sizes.length !== outputs || sizes.reduce((a, b) => a + b, 0) !== total || sizes.some((s) => s <= 0)) {
    ctx.fail(node, `split sizes [${sizes.join(',')}] do not divide ${total} channels into ${outputs} non-empty parts`);
  }
  let offset = 0;
  sizes.forEach((size, k) => {
    if (!ctx.outputUnused(node, k))
      selectChannels(
        ctx,
        node,
        k,
        x,
        Array.from({ length: size }, (_, i) => offset + i),
      );
    offset += size;
  });
}

/** Reshape [N, C, H, W] -> [N, c1, ..., ck, H, W] with c1 * ... * ck = C: a channels view, or undefined. */
export function channelViewOf(x: IrValue, dims: readonly number[], by: string): ChannelView | undefined {
  if (x.shape.length !== 4 || x.flat) return undefined;
  const [n, h, w, c] = x.shape;
  const k = dims.length - 3;
  if (k < 2 || dims[0] !== n || dims[dims.length - 2] !== h || dims[dims.length - 1] !== w) return undefined;
  const factors = dims.slice(1, 1 + k);
  if (factors.reduce((a, b) => a * b, 1) !== c) return undefined;
  return { kind: 'channels', source: x, factors, table: Array.from({ length: c }, (_, i) => i), by };
}

/** Transpose of a channels view that moves only its channel axes. */
export function transposeChannelView(ctx: ImportContext, node: OnnxNode, view: ChannelView, perm: readonly number[]): ChannelView {
  const k = view.factors.length;
  const rank = k + 3;
  const fixed = perm.length === rank && perm[0] === 0 && perm[rank - 2] === rank - 2 && perm[rank - 1] === rank - 1;
  const moved = perm.slice(1, 1 + k).map((p) => p - 1);
  if (!fixed || [...moved].sort((a, b) => a - b).some((p, i) => p !== i)) {
    ctx.fail(
      node,
      `Transpose with perm [${perm.join(',')}] of a channel reshape is not supported: slimc permutes the channel axes only (a channel shuffle)`,
    );
  }
  const factors = moved.map((p) => view.factors[p]);
  // Row-major strides of the old axes; output position i reads the old position with the same
  // coordinates, permuted.
  const oldStrides = view.factors.map((_, a) => view.factors.slice(a + 1).reduce((x, y) => x * y, 1));
  const table = Array.from({ length: view.table.length }, (_, i) => {
    let rest = i;
    let old = 0;
    for (let a = k - 1; a >= 0; a--) {
      const coordinate = rest % factors[a];
      rest = Math.floor(rest / factors[a]);
      old += coordinate * oldStrides[moved[a]];
    }
    return view.table[old];
  });
  return { ...view, factors, table, by: nodeNameOf(node) };
}

/** Reshape of a channels view back to [N, C, H, W]: the channel permutation as a gather. */
export function closeChannelView(ctx: ImportContext, node: OnnxNode, view: ChannelView, dims: readonly number[]): void {
  const [n, h, w, c] = view.source.shape;
  if (dims.length !== 4 || dims[0] !== n || dims[1] !== c || dims[2] !== h || dims[3] !== w) {
    ctx.fail(
      node,
      `reshaping the channel view of Reshape '${view.by}' to [${dims.join(',')}] is not supported: slimc reads it back as [N, C, H, W] only (a channel shuffle)`,
    );
  }
  selectChannels(ctx, node, 0, view.source, view.table);
}
