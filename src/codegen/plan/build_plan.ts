// Builds the static execution plan of a lowered graph: one step per node that computes, with
// the integer arguments of the backend's kernel export; values assigned to arena slots by the
// memory planner. Flatten is free (its value aliases its input's slot: NHWC is row-major); an
// add or relu whose input dies at that step writes over it (elementwise kernels read each
// element before writing it); gathers and concats become copies of channel runs, and a gather
// followed by the batch norm that reads only it (a 1x1 depthwise conv) becomes one step. Concats
// and selections read only by gathers and concats are column views (column_views.ts): no step,
// or a copy of just the channels new to their shared buffer.
import { match } from 'ts-pattern';
import { channelsOf, inputsOf, isElementwise, usersOf } from '../../ir/node.ts';
import { padAmounts } from '../../ir/shapes.ts';
import type { Activation, Conv2dNode, GatherNode, Graph, Node, Padding, Pair, TensorType, ValueId, WeightName } from '../../ir/types.ts';
import { channelRuns } from '../runtime/model_runtime.js';
import { columnViews } from './column_views.ts';
import { planMemory, type BufferRequest } from './memory_planner.ts';
import type { ActivationCode, EncodedStep, GatherAffine, Pads, PlanSpec, PlanStep, PlanValue } from './plan_types.ts';

/** The index of an uploaded weight tensor (shared with the engine path's W[i]). */
export type WeightRef = (name: WeightName, uploadShape?: readonly number[] | null) => number;
/** The index of a channel selection among the engine path's constants (K[i]). */
export type SelectionRef = (indices: readonly number[]) => number;

class Unsupported extends Error {}

const ACTIVATION_CODES: Readonly<Record<Activation, ActivationCode>> = { none: 0, relu: 1, relu6: 2, sigmoid: 5 };
const activationCode = (a: Activation): ActivationCode => ACTIVATION_CODES[a];

function padsOf(input: TensorType, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding): Pads {
  const [, height, width] = input.shape;
  const [top, bottom] = padAmounts(height, kernel[0], strides[0], dilations[0], padding, 'h');
  const [left, right] = padAmounts(width, kernel[1], strides[1], dilations[1], padding, 'w');
  return [top, right, bottom, left];
}

const perSample = (shape: readonly number[]) => shape.slice(1);
const sizeOf = (shape: readonly number[]) => perSample(shape).reduce((a, b) => a * b, 1);

/** Which export each step op calls (Add becomes AddN past two operands). */
function exportOf(step: PlanStep): string | null {
  return match(step)
    .with({ op: 'conv2d' }, () => 'FusedConv2D')
    .with({ op: 'depthwise' }, () => 'FusedDepthwiseConv2D')
    .with({ op: 'max_pool' }, () => 'MaxPool')
    .with({ op: 'avg_pool' }, () => 'AvgPool')
    .with({ op: 'add' }, (s) => (s.xs.length === 2 ? 'Add' : 'AddN'))
    .with({ op: 'relu' }, () => 'Relu')
    .with({ op: 'relu6' }, () => 'Relu6')
    .with({ op: 'sigmoid' }, () => 'Sigmoid')
    .with({ op: 'mul' }, () => 'Multiply')
    .with({ op: 'softmax' }, () => 'Softmax')
    .with({ op: 'dense' }, () => '_FusedMatMul')
    .with({ op: 'gather' }, { op: 'copy' }, () => null)
    .exhaustive();
}

/** The activations a fused gather applies itself (its kernel clamps to [0, inf) or [0, 6]). */
const GATHER_ACTIVATIONS: Partial<Record<Activation, GatherAffine['activation']>> = { none: 0, relu: 1, relu6: 2 };

/**
 * The gathers to fuse with the batch norm after them, by the norm's id: a gather whose only reader
 * is the next node, a 1x1 depthwise conv with stride 1 and no padding (a batch norm, lowered) and an
 * activation the gather kernel has. One pass over the kept channels then does both: in a pruned
 * ResNet or DenseNet every block starts with such a pair.
 */
function gathersToFuse(graph: Graph): Map<ValueId, GatherNode> {
  const users = usersOf(graph);
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const fused = new Map<ValueId, GatherNode>();
  graph.nodes.forEach((gather, i) => {
    const next = graph.nodes[i + 1];
    if (gather.op !== 'gather' || next === undefined || next.op !== 'conv2d' || graph.outputs.includes(gather.id)) return;
    if (users.get(gather.id)?.length !== 1 || next.input !== gather.id) return;
    const channels = channelsOf(gather.type.shape);
    const pads = padsOf(types.get(gather.id) as TensorType, next.kernel, next.strides, next.dilations, next.padding);
    const perChannel =
      next.groups === channels &&
      channelsOf(next.type.shape) === channels &&
      [...next.kernel, ...next.strides, ...next.dilations].every((k) => k === 1) &&
      pads.every((p) => p === 0);
    if (perChannel && GATHER_ACTIVATIONS[next.activation] !== undefined) fused.set(next.id, gather);
  });
  return fused;
}

/** The gather step that does `gather` and then the per-channel conv `norm` (see gathersToFuse). */
function fusedGatherStep(
  gather: GatherNode,
  norm: Conv2dNode,
  v: (id: ValueId) => number,
  read: ReadValue,
  weight: WeightRef,
  selection: SelectionRef,
): PlanStep {
  const channels = channelsOf(norm.type.shape);
  const source = read(gather.input);
  return {
    op: 'gather',
    name: norm.id,
    x: source.value,
    y: v(norm.id),
    indices: selection(pick(source, gather.indices)),
    affine: {
      scale: weight(norm.filter, [1, 1, channels, 1]),
      shift: norm.bias === null ? -1 : weight(norm.bias),
      activation: GATHER_ACTIVATIONS[norm.activation] as GatherAffine['activation'],
    },
  };
}

/** Where a value's channels are: a plan value, and its channels there (null: all, in order). */
interface ValueSource {
  readonly value: number;
  readonly columns: readonly number[] | null;
}
type ReadValue = (id: ValueId) => ValueSource;

/** The source channels of `indices` of a value read from `source`. */
const pick = (source: ValueSource, indices: readonly number[]): readonly number[] =>
  source.columns === null ? indices : indices.map((k) => (source.columns as readonly number[])[k]);

/**
 * The plan of a lowered, verified graph, and the first op it does not cover (the graph then runs
 * on the engine path; the plan's arena still tells the memory it needs).
 */
export function buildPlan(
  graph: Graph,
  weight: WeightRef,
  selection: SelectionRef,
): { readonly plan: PlanSpec; readonly unsupported: string | null } {
  const nodes = graph.nodes;
  const end = nodes.length;
  const types = new Map(nodes.map((n) => [n.id, n.type]));
  const fused = gathersToFuse(graph);
  const fusedGathers = new Set([...fused.values()].map((g) => g.id));
  const { views, writes, buffers, inPlace } = columnViews(graph, fusedGathers);
  const lastUse = new Map<ValueId, number>();
  nodes.forEach((n, i) => {
    lastUse.set(n.id, Math.max(lastUse.get(n.id) ?? i, i));
    // A fused gather's source is read by the norm's step, one node later.
    for (const v of inputsOf(n)) lastUse.set(v, fusedGathers.has(n.id) ? i + 1 : i);
  });
  for (const v of graph.outputs) lastUse.set(v, end);
  // A column buffer lives until the last read of any view of it.
  const bufferLast = buffers.map(() => 0);
  for (const [id, view] of views) bufferLast[view.buffer] = Math.max(bufferLast[view.buffer], lastUse.get(id) ?? 0);
  const bufferValues: number[] = [];

  const slots: { size: number; first: number; last: number }[] = [];
  const values: PlanValue[] = [];
  const valueIndex = new Map<ValueId, number>();
  const addValue = (id: ValueId, slot: number) => {
    const shape = types.get(id)?.shape as readonly number[];
    values.push({ slot, shape: perSample(shape) });
    valueIndex.set(id, values.length - 1);
    slots[slot].last = Math.max(slots[slot].last, lastUse.get(id) ?? 0);
  };
  const newSlot = (id: ValueId, first: number) => {
    slots.push({ size: sizeOf(types.get(id)?.shape as readonly number[]), first, last: first });
    addValue(id, slots.length - 1);
  };
  const v = (id: ValueId) => valueIndex.get(id) as number;
  const read: ReadValue = (id) => {
    const view = views.get(id);
    return view === undefined ? { value: v(id), columns: null } : { value: bufferValues[view.buffer], columns: view.columns };
  };
  /** A column buffer's plan value, made at the buffer's first write. */
  const bufferValue = (b: number): number => {
    if (bufferValues[b] === undefined) {
      const buffer = buffers[b];
      const shape = [...buffer.shape.slice(0, -1), buffer.width];
      slots.push({ size: shape.reduce((a, c) => a * c, 1), first: buffer.first, last: bufferLast[b] });
      values.push({ slot: slots.length - 1, shape });
      bufferValues[b] = values.length - 1;
    }
    return bufferValues[b];
  };
  /** The copy of a view concat's inputs that are not in its buffer yet and not written there in place, if any. */
  const columnWrite = (node: Node): PlanStep | null => {
    const view = views.get(node.id) as { buffer: number };
    bufferValue(view.buffer);
    const parts = (writes.get(node.id) ?? []).filter(({ input, inPlace }) => !inPlace && channelsOf(type(input).shape) > 0);
    if (parts.length === 0) return null;
    const sources = parts.map(({ input }) => read(input));
    const runs = parts.map(({ input, column }, k) => {
      const all = Array.from({ length: channelsOf(type(input).shape) }, (_, c) => c);
      return channelRuns(pick(sources[k], all), column);
    });
    return { op: 'copy', name: node.id, xs: sources.map((s) => s.value), y: bufferValues[view.buffer], runs };
  };
  const type = (id: ValueId) => types.get(id) as TensorType;
  /** The slot of an input that dies here and that nothing else holds past this step, if any. */
  const reusable = (inputs: readonly ValueId[], i: number, size: number) =>
    inputs.find((x) => {
      const slot = values[v(x)].slot;
      return lastUse.get(x) === i && slots[slot].last === i && slots[slot].size === size && !graph.outputs.includes(x);
    });

  const steps: PlanStep[] = [];
  let unsupported: string | null = null;
  nodes.forEach((node, i) => {
    if (node.op === 'input') return newSlot(node.id, -1);
    if (fusedGathers.has(node.id)) return; // no value: the norm's step reads the gather's source
    if (views.has(node.id)) {
      // Channels of a column buffer: a concat copies there what is not in it yet; a selection is free.
      const write = node.op === 'concat' ? columnWrite(node) : null;
      if (write !== null) steps.push(write);
      return;
    }
    if (node.op === 'flatten') return addValue(node.id, values[v(node.input)].slot);
    const into = inPlace.get(node.id);
    if (into !== undefined && node.op === 'conv2d') {
      // Its output is columns of a buffer: the step writes there (its value is the buffer's).
      valueIndex.set(node.id, bufferValue(into.buffer));
      const step = stepOf(node, v, read, type, weight, selection);
      if (step.op === 'conv2d') steps.push({ ...step, into: { column: into.column, channels: channelsOf(node.type.shape) } });
      return;
    }
    // Elementwise kernels may write over an operand that dies here; not AddN: it accumulates into
    // its output, so an operand sharing the output's buffer is lost (the sum comes out wrong).
    if ((node.op === 'add' && node.inputs.length === 2) || node.op === 'relu' || node.op === 'relu6') {
      const over = reusable(inputsOf(node), i, sizeOf(node.type.shape));
      if (over !== undefined) addValue(node.id, values[v(over)].slot);
      else newSlot(node.id, i);
    } else newSlot(node.id, i);
    try {
      const gather = fused.get(node.id);
      if (gather !== undefined && node.op === 'conv2d') steps.push(fusedGatherStep(gather, node, v, read, weight, selection));
      else steps.push(stepOf(node, v, read, type, weight, selection));
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      unsupported ??= e.message;
    }
  });

  const memory = planMemory(slots satisfies readonly BufferRequest[]);
  const exports = [...new Set(steps.map(exportOf).filter((e): e is string => e !== null))].sort();
  const plan: PlanSpec = {
    arena: memory.arena,
    slots: slots.map((s, i) => ({ offset: memory.offsets[i], size: s.size })),
    values,
    inputs: nodes.filter((n) => n.op === 'input').map((n) => v(n.id)),
    outputs: graph.outputs.map(v),
    steps,
    exports,
  };
  return { plan, unsupported };
}

function stepOf(
  node: Node,
  v: (id: ValueId) => number,
  read: ReadValue,
  type: (id: ValueId) => TensorType,
  weight: WeightRef,
  selection: SelectionRef,
): PlanStep {
  const name = node.id;
  const y = v(node.id);
  if (isElementwise(node)) {
    // The plan calls relu, relu6 and sigmoid itself; silu and the hard activations are rewritten into
    // those by the expand-activations lowering, and any other elementwise op runs on the engine path.
    if (node.op === 'relu' || node.op === 'relu6' || node.op === 'sigmoid') return { op: node.op, name, x: v(node.input), y };
    throw new Unsupported(`${node.op} %${node.id} (no plan step: the engine path runs it)`);
  }
  return match(node)
    .with({ op: 'input' }, { op: 'flatten' }, (n): PlanStep => {
      throw new Error(`${n.op} has no step`);
    })
    .with({ op: 'conv2d' }, (n): PlanStep => {
      const x = type(n.input);
      const cin = channelsOf(x.shape);
      const cout = channelsOf(n.type.shape);
      const depthwise = n.groups === cin && n.groups > 1;
      if (n.groups !== 1 && !depthwise) throw new Unsupported(`grouped convolution %${n.id} (groups=${n.groups})`);
      const [kh, kw] = n.kernel;
      return {
        op: depthwise ? 'depthwise' : 'conv2d',
        name,
        x: v(n.input),
        y,
        filter: weight(n.filter, depthwise ? [kh, kw, cin, cout / cin] : null),
        bias: n.bias === null ? -1 : weight(n.bias),
        kernel: n.kernel,
        strides: n.strides,
        dilations: n.dilations,
        pads: padsOf(x, n.kernel, n.strides, n.dilations, n.padding),
        activation: activationCode(n.activation),
      };
    })
    .with({ op: 'max_pool' }, (n): PlanStep => ({
      op: 'max_pool',
      name,
      x: v(n.input),
      y,
      kernel: n.kernel,
      strides: n.strides,
      pads: padsOf(type(n.input), n.kernel, n.strides, [1, 1], n.padding),
    }))
    .with({ op: 'avg_pool' }, (n): PlanStep => {
      const pads = padsOf(type(n.input), n.kernel, n.strides, [1, 1], n.padding);
      // XNNPACK divides by the real positions of a window; counting the pads is not available.
      if (n.countIncludePad && pads.some((p) => p > 0)) throw new Unsupported(`average pooling %${n.id} counting padded positions`);
      return { op: 'avg_pool', name, x: v(n.input), y, kernel: n.kernel, strides: n.strides, pads };
    })
    .with({ op: 'global_avg_pool' }, (n): PlanStep => {
      const [, height, width] = type(n.input).shape;
      return { op: 'avg_pool', name, x: v(n.input), y, kernel: [height, width], strides: [1, 1], pads: [0, 0, 0, 0] };
    })
    .with({ op: 'add' }, (n): PlanStep => ({ op: 'add', name, xs: n.inputs.map(v), y }))
    .with({ op: 'mul' }, (n): PlanStep => ({ op: 'mul', name, a: v(n.inputs[0]), b: v(n.inputs[1]), y }))
    .with({ op: 'softmax' }, (n): PlanStep => ({ op: 'softmax', name, x: v(n.input), y }))
    .with({ op: 'dense' }, (n): PlanStep => ({
      op: 'dense',
      name,
      x: v(n.input),
      y,
      weight: weight(n.weight),
      bias: n.bias === null ? -1 : weight(n.bias),
      activation: activationCode(n.activation),
    }))
    .with({ op: 'gather' }, (n): PlanStep => {
      const source = read(n.input);
      return { op: 'gather', name, x: source.value, y, indices: selection(pick(source, n.indices)), affine: null };
    })
    .with({ op: 'concat' }, (n): PlanStep => {
      let column = 0;
      const sources = n.inputs.map(read);
      const runs = n.inputs.map((x, k) => {
        const width = channelsOf(type(x).shape);
        const all = Array.from({ length: width }, (_, c) => c);
        const run = channelRuns(pick(sources[k], all), column);
        column += width;
        return run;
      });
      return { op: 'copy', name, xs: sources.map((s) => s.value), y, runs };
    })
    .with({ op: 'scale_shift' }, (n): PlanStep => {
      // Rank-2 multiply-adds (4-D ones are depthwise convs already): a 1x1 depthwise conv on [N, 1, 1, C].
      const channels = channelsOf(n.type.shape);
      if (n.scale === null) throw new Unsupported(`multiply-add %${n.id} without a scale`);
      return {
        op: 'depthwise',
        name,
        x: v(n.input),
        y,
        filter: weight(n.scale, [1, 1, channels, 1]),
        bias: n.shift === null ? -1 : weight(n.shift),
        kernel: [1, 1],
        strides: [1, 1],
        dilations: [1, 1],
        pads: [0, 0, 0, 0],
        activation: 0,
      };
    })
    .with({ op: 'batch_norm' }, (n): PlanStep => {
      throw new Unsupported(`batch norm %${n.id} (lowering turns batch norms into convs or multiply-adds)`);
    })
    .exhaustive();
}

/** A step as the emitted module writes it (see EncodedStep). */
export function encodeStep(step: PlanStep): EncodedStep {
  return match(step)
    .with({ op: 'conv2d' }, { op: 'depthwise' }, (s): EncodedStep => {
      const base = [s.op, s.name, s.x, s.y, s.filter, s.bias, ...s.kernel, ...s.strides, ...s.dilations, ...s.pads, s.activation] as const;
      return s.into === undefined ? base : [...base, s.into.column, s.into.channels];
    })
    .with({ op: 'max_pool' }, { op: 'avg_pool' }, (s): EncodedStep => [s.op, s.name, s.x, s.y, ...s.kernel, ...s.strides, ...s.pads])
    .with({ op: 'add' }, (s): EncodedStep => ['add', s.name, s.y, ...s.xs])
    .with({ op: 'relu' }, { op: 'relu6' }, { op: 'sigmoid' }, { op: 'softmax' }, (s): EncodedStep => [s.op, s.name, s.x, s.y])
    .with({ op: 'mul' }, (s): EncodedStep => ['mul', s.name, s.a, s.b, s.y])
    .with({ op: 'dense' }, (s): EncodedStep => ['dense', s.name, s.x, s.y, s.weight, s.bias, s.activation])
    .with({ op: 'gather' }, (s): EncodedStep =>
      s.affine === null
        ? ['gather', s.name, s.x, s.y, s.indices]
        : ['gather', s.name, s.x, s.y, s.indices, s.affine.scale, s.affine.shift, s.affine.activation],
    )
    .with({ op: 'copy' }, (s): EncodedStep => ['copy', s.name, s.y, ...s.xs.map((x, k) => [x, s.runs[k]] as const)])
    .exhaustive();
}
