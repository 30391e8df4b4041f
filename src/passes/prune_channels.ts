// Pruning: rewrite a masked graph into the compact graph that computes the same function with
// only the channels the channel dataflow analysis keeps.
//
// - Every kept node computes exactly its kept channels, in ascending order; its weights are
//   sliced on both channel axes (new arrays; the masked graph is not touched).
// - Constant input channels that a conv or dense layer does not read are folded into its bias:
//   bias'[o] = bias[o] + sum_i k_i * sum_{kh,kw} w[kh,kw,i,o].
// - A consumer that reads fewer channels than its producer keeps for others (a pre-activation BN
//   on a residual stream, a DenseNet layer's BN on the concatenation) reads through a gather
//   (the paper's channel-selection layer); consumers reading the same subset share it.
// - An add operand that is constant on all kept channels is dropped and its constant becomes a
//   scale_shift on the result: a dead residual branch leaves its block as the identity (shift 0)
//   or a bias add. An add or concat left with one operand disappears.
// - Nodes with no kept channel are dead and vanish.
import { match } from 'ts-pattern';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames } from '../ir/node.ts';
import type { Conv2dNode, DenseNode, Graph, Node, ValueId, Weight } from '../ir/types.ts';
import { f32 } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { analyzeChannels, absorbsConstant, type ChannelFlow } from './channel_flow.ts';
import { convKind, linearInputOffset } from './channel_rules.ts';
import { findDisconnections, type Disconnection } from './disconnection.ts';

const channelsOf = (shape: readonly number[]) => shape[shape.length - 1];
const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Slices a weight whose last axis is the output channel, keeping `outputs`. */
function sliceLastAxis(w: Weight, outputs: readonly number[]): Weight {
  const last = channelsOf(w.shape);
  const rows = w.data.length / last;
  const data = new Float32Array(rows * outputs.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < outputs.length; j++) data[r * outputs.length + j] = w.data[r * last + outputs[j]];
  return { shape: [...w.shape.slice(0, -1), outputs.length], data };
}

/**
 * Slices a [..., in, out] weight to the given inputs and outputs; `zeroInput(i)` zeroes the
 * weights of input i (its constant was folded into the bias).
 */
function sliceInOut(w: Weight, inputs: readonly number[], outputs: readonly number[], zeroInput: (i: number) => boolean): Weight {
  const [cin, cout] = w.shape.slice(-2);
  const positions = w.data.length / (cin * cout);
  const data = new Float32Array(positions * inputs.length * outputs.length);
  for (let p = 0; p < positions; p++) {
    for (let a = 0; a < inputs.length; a++) {
      if (zeroInput(inputs[a])) continue;
      const src = (p * cin + inputs[a]) * cout;
      const dst = (p * inputs.length + a) * outputs.length;
      for (let b = 0; b < outputs.length; b++) data[dst + b] = w.data[src + outputs[b]];
    }
  }
  return { shape: [...w.shape.slice(0, -2), inputs.length, outputs.length], data };
}

class CompactGraphBuilder {
  readonly nodes: Node[] = [];
  readonly weights: Record<string, Weight> = {};
  /** Original value -> compact value holding its kept channels. */
  readonly valueOf = new Map<ValueId, ValueId>();
  private readonly selections = new Map<string, ValueId>();
  private readonly ids: Set<string>;
  private readonly types = new Map<ValueId, readonly number[]>();

  constructor(
    private readonly source: Graph,
    readonly flow: ChannelFlow,
  ) {
    this.ids = new Set(source.nodes.map((n) => n.id));
  }

  kept(v: ValueId): readonly number[] {
    return this.flow.kept.get(v) as readonly number[];
  }

  /** A name not yet used by any value or weight. */
  unique(base: string, taken: (name: string) => boolean): string {
    if (!taken(base)) return base;
    for (let k = 2; ; k++) if (!taken(`${base}${k}`)) return `${base}${k}`;
  }

  newValueId(base: string): ValueId {
    const id = this.unique(base, (name) => this.ids.has(name));
    this.ids.add(id);
    return id;
  }

  newWeightName(base: string): string {
    return this.unique(base, (name) => name in this.weights || name in this.source.weights);
  }

  /** The compact value holding channels `wanted` (a subset of kept(v), ascending) of v. */
  select(v: ValueId, wanted: readonly number[]): ValueId {
    const kept = this.kept(v);
    const value = this.valueOf.get(v) as ValueId;
    if (sameList(kept, wanted)) return value;
    const key = `${v}\u0000${wanted.join(',')}`;
    const cached = this.selections.get(key);
    if (cached) return cached;
    const position = new Map(kept.map((c, i) => [c, i]));
    const indices = wanted.map((c) => position.get(c) as number);
    const shape = this.types.get(value) as readonly number[];
    const id = this.newValueId(`${v}.select`);
    this.push({ op: 'gather', id, type: f32([...shape.slice(0, -1), wanted.length]), input: value, indices });
    this.selections.set(key, id);
    return id;
  }

  push(node: Node): ValueId {
    this.nodes.push(node);
    this.types.set(node.id, node.type.shape);
    return node.id;
  }

  weight(name: string, w: Weight): string {
    this.weights[name] = w;
    return name;
  }
}

/** Pruning cut every path from the network's input to an output: the cuts, named. */
export class DisconnectedError extends SlimcError {
  override readonly name = 'DisconnectedError';
  constructor(
    readonly disconnections: readonly Disconnection[],
    /** What would fix it, when the caller knows (slimGraph tries fixes before it says them). */
    readonly fixes: readonly string[] = [],
    /** Appended as it is (a selection warning). */
    note = '',
  ) {
    const [first] = disconnections;
    const reasons = first.cuts.slice(0, 4).map((c) => c.reason);
    const more = first.cuts.length > 4 ? `; and ${first.cuts.length - 4} more cuts` : '';
    const outputs = disconnections.length > 1 ? ` (and ${disconnections.length - 1} more output${disconnections.length > 2 ? 's' : ''})` : '';
    const fixText = fixes.length > 0 ? `\nWhat works here:\n${fixes.map((f) => `  ${f}`).join('\n')}` : '';
    super(
      `after pruning, output %${first.output}${outputs} no longer depends on the network's input: ${reasons.join('; ')}${more}.${fixText}${note}`,
      first.cuts[0]?.layers[0] !== undefined ? `@${first.cuts[0].layers[0]}` : `%${first.output}`,
    );
  }

  /** The BN layers the cuts involve, in graph order, each once. */
  get layers(): string[] {
    return [...new Set(this.disconnections.flatMap((d) => d.cuts.flatMap((c) => c.layers)))];
  }
}

function checkOutputsStillDependOnInput(graph: Graph, flow: ChannelFlow): void {
  const disconnections = findDisconnections(graph, flow);
  if (disconnections.length > 0) throw new DisconnectedError(disconnections);
}

/** Prunes a masked graph (see maskChannels) to its compact form. */
export function pruneChannels(masked: Graph, flow: ChannelFlow = analyzeChannels(masked)): Graph {
  checkOutputsStillDependOnInput(masked, flow);
  const b = new CompactGraphBuilder(masked, flow);
  const W = masked.weights;
  const typeOf = new Map(masked.nodes.map((n) => [n.id, n.type]));

  for (const node of masked.nodes) {
    const kept = b.kept(node.id);
    if (kept.length === 0) continue;
    const reads = flow.reads.get(node.id) ?? [];
    const type = f32([...node.type.shape.slice(0, -1), kept.length]);

    /** A conv or dense layer as one linear map over inputs offset.. (see linearInputOffset). */
    const linear = (n: Conv2dNode | DenseNode, offset: number, rest: Partial<Conv2dNode> | Partial<DenseNode>) => {
      const inputType = typeOf.get(n.input) as Node['type'];
      const k = flow.constants.get(n.input) ?? [];
      const folded = (local: number) => absorbsConstant(n, inputType, k[offset + local] ?? null);
      const read = reads[0];
      const table = flow.tables.get(n.id);
      if (!table) throw new Error(`no linear table for %${n.id}`);
      const weightName = n.op === 'conv2d' ? n.filter : n.weight;
      const newWeight = b.weight(weightName, sliceInOut(W[weightName], read.map((i) => i - offset), kept, folded));
      const bias = Float64Array.from(kept, (o) => (n.bias ? W[n.bias].data[o] : 0));
      for (let i = 0; i < table.inputs; i++) {
        if (!folded(i)) continue;
        const ki = k[offset + i] as number;
        if (ki !== 0) kept.forEach((o, j) => (bias[j] += ki * table.sum[i * table.outputs + o]));
      }
      const needsBias = n.bias !== null || bias.some((x) => x !== 0);
      const biasName = needsBias ? b.weight(n.bias ?? b.newWeightName(`${n.id}.b`), { shape: [kept.length], data: Float32Array.from(bias) }) : null;
      const input = b.select(n.input, read);
      return { ...n, ...rest, type, input, bias: biasName, ...(n.op === 'conv2d' ? { filter: newWeight } : { weight: newWeight }) } as Node;
    };

    const channelwise = <N extends Node & { input: ValueId }>(n: N): N => ({ ...n, type, input: b.select(n.input, kept) });

    const result: ValueId | Node = match(node)
      .with({ op: 'input' }, (n): Node => n)
      .with({ op: 'dense' }, (n) => linear(n, 0, {}))
      .with({ op: 'conv2d' }, (n): Node => {
        const inputType = typeOf.get(n.input) as Node['type'];
        const kind = convKind(n, inputType);
        const keptFlags = new Uint8Array(channelsOf(n.type.shape));
        for (const o of kept) keptFlags[o] = 1;
        const offset = linearInputOffset(n, inputType, keptFlags);
        // A grouped conv left with one group becomes a plain conv over that group's channels.
        if (offset !== null) return linear(n, offset, { groups: 1 });
        const filter = b.weight(n.filter, sliceLastAxis(W[n.filter], kept));
        const bias = n.bias === null ? null : b.weight(n.bias, sliceLastAxis(W[n.bias], kept));
        const groups = kind === 'depthwise' ? kept.length : (n.groups * kept.length) / channelsOf(n.type.shape);
        return { ...n, type, input: b.select(n.input, reads[0]), filter, bias, groups };
      })
      .with({ op: 'batch_norm' }, (n) => {
        for (const name of Object.values(bnWeightNames(n.params))) b.weight(name, sliceLastAxis(W[name], kept));
        return channelwise(n);
      })
      .with({ op: 'scale_shift' }, (n) => {
        const scale = n.scale === null ? null : b.weight(n.scale, sliceLastAxis(W[n.scale], kept));
        const shift = n.shift === null ? null : b.weight(n.shift, sliceLastAxis(W[n.shift], kept));
        return { ...channelwise(n), scale, shift };
      })
      .with({ op: 'relu' }, { op: 'relu6' }, { op: 'max_pool' }, { op: 'avg_pool' }, { op: 'global_avg_pool' }, { op: 'softmax' }, (n) => channelwise(n))
      .with({ op: 'add' }, (n): ValueId | Node => {
        const constant = flow.constantOperands.get(n.id) ?? new Set<number>();
        const operands = n.inputs.filter((_, i) => !constant.has(i)).map((v) => b.select(v, kept));
        const shift = Float64Array.from(kept, (c) =>
          n.inputs.reduce((s, v, i) => (constant.has(i) ? s + ((flow.constants.get(v) ?? [])[c] ?? 0) : s), 0),
        );
        const shifted = shift.some((x) => x !== 0);
        const sum = operands.length === 1 ? operands[0] : b.push({ ...n, id: shifted ? b.newValueId(`${n.id}.sum`) : n.id, type, inputs: operands });
        if (!shifted) return sum;
        const shiftName = b.weight(b.newWeightName(`${n.id}.shift`), { shape: [kept.length], data: Float32Array.from(shift) });
        return { op: 'scale_shift', id: n.id, type, input: sum, scale: null, shift: shiftName };
      })
      .with({ op: 'concat' }, (n): ValueId | Node => {
        const parts = n.inputs.map((v, i) => ({ v, read: reads[i] })).filter((p) => p.read.length > 0);
        const operands = parts.map((p) => b.select(p.v, p.read));
        return operands.length === 1 ? operands[0] : { ...n, type, inputs: operands };
      })
      .with({ op: 'flatten' }, (n) => ({ ...n, type, input: b.select(n.input, reads[0]) }))
      .with({ op: 'gather' }, (n): ValueId | Node => {
        const source = b.kept(n.input);
        const position = new Map(source.map((c, i) => [c, i]));
        const positions = kept.map((j) => position.get(n.indices[j]) as number);
        const input = b.valueOf.get(n.input) as ValueId;
        if (positions.length === source.length && positions.every((p, i) => p === i)) return input;
        return { ...n, type, input, indices: positions };
      })
      .exhaustive();

    b.valueOf.set(node.id, typeof result === 'string' ? result : b.push(result));
  }

  const compact: Graph = {
    name: masked.name,
    nodes: b.nodes,
    outputs: masked.outputs.map((v) => b.valueOf.get(v) as ValueId),
    weights: b.weights,
    // Pruning changes no border: an ONNX model's compact graph still takes NCHW.
    ...(masked.layout ? { layout: masked.layout } : {}),
  };
  return verify(compact);
}
