// Channel dataflow analysis: which channels of which values the compact graph must compute.
//
// Two facts per channel (per last-axis index: a channel of an NHWC value, a feature of an
// [N, F] value):
// - forward, `constants`: the channel is input-independent and spatially constant, with that
//   value (null: it varies). A BN channel with gamma = beta = 0 is the constant 0; a conv output
//   whose live inputs are all constant is constant; and so on. Null is always a safe answer.
// - backward, `need`: some consumer reads the channel. A consumer that is linear in its input
//   (a conv without padding effects, a dense layer) does not need a constant channel: it folds
//   the constant into its bias. A residual add does not need an operand that is constant on
//   every channel it produces: the constant becomes a shift on the add's result.
// A channel is kept where it is needed. The graph is a DAG in topological order, so one forward
// sweep and one backward sweep reach the fixpoint: every fact depends only on facts earlier
// (forward) or later (backward) in the order.
//
// Coupling: the operands and result of an add share one channel set (an operand must provide
// every channel the add keeps); a concat's channels are its operands' channels end to end; a
// depthwise conv ties input and output channels 1:1; a grouped conv keeps whole groups; flatten
// keeps every spatial position of a kept channel.
import { match } from 'ts-pattern';
import { bnWeightNames, inputsOf } from '../ir/node.ts';
import type { Conv2dNode, DenseNode, Graph, Node, TensorType, ValueId } from '../ir/types.ts';
import { convKind, groupOf, linearInputOffset, linearTable, seesNoPadding, type LinearTable } from './channel_rules.ts';

/** Per channel: its constant value, or null where it varies. */
export type ChannelConstants = readonly (number | null)[];

export interface ChannelFlow {
  readonly constants: ReadonlyMap<ValueId, ChannelConstants>;
  /** Channels the compact graph computes for each value, ascending. */
  readonly kept: ReadonlyMap<ValueId, readonly number[]>;
  /** For each node, for each operand, the operand channels it reads (ascending). */
  readonly reads: ReadonlyMap<ValueId, readonly (readonly number[])[]>;
  /** Add nodes: operand positions that are constant wherever the add keeps channels. */
  readonly constantOperands: ReadonlyMap<ValueId, ReadonlySet<number>>;
  /**
   * Channels that do not depend on the graph's inputs at all (constant or not): an output made
   * only of these means pruning cut every path from the input to it.
   */
  readonly independent: ReadonlyMap<ValueId, Uint8Array>;
  /** Linear tables of convs and dense layers (computed once, reused by the rewrite). */
  readonly tables: ReadonlyMap<ValueId, LinearTable>;
}

const channelsOf = (t: TensorType) => t.shape[t.shape.length - 1];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const indicesOf = (flags: Uint8Array) => range(flags.length).filter((i) => flags[i] === 1);

/**
 * Whether the constant `k` on an input channel adds the same amount at every output position of
 * a linear layer: always for dense; for a conv, when k is 0 or no output position sees padding.
 */
export function constantPassesThrough(n: Conv2dNode | DenseNode, input: TensorType, k: number | null): k is number {
  return k !== null && (n.op === 'dense' || k === 0 || seesNoPadding(n, input));
}

/**
 * Whether a layer acting as one linear map (see linearInputOffset) folds the constant on this
 * input channel into its bias rather than reading the channel. Depthwise convs and convs with
 * several groups do not: they compute from the channels they are tied to.
 */
export function absorbsConstant(n: Conv2dNode | DenseNode, input: TensorType, k: number | null): k is number {
  return constantPassesThrough(n, input, k);
}

function forwardConstants(graph: Graph, node: Node, constantsOf: (v: ValueId) => ChannelConstants, tables: Map<ValueId, LinearTable>, types: ReadonlyMap<ValueId, TensorType>): ChannelConstants {
  const out = channelsOf(node.type);
  const varying = (): ChannelConstants => new Array<number | null>(out).fill(null);
  const weight = (name: string | null) => (name === null ? null : graph.weights[name].data);

  const linear = (n: Conv2dNode | DenseNode, x: ChannelConstants, inputType: TensorType): ChannelConstants => {
    const table = tables.get(n.id) as LinearTable;
    const bias = weight(n.bias);
    const kind = n.op === 'conv2d' ? convKind(n, inputType) : 'full';
    const cin = channelsOf(inputType);
    return range(out).map((o) => {
      const first = n.op === 'conv2d' && kind !== 'full' ? groupOf(n, cin, o).firstInput : 0;
      let value = bias ? bias[o] : 0;
      for (let i = 0; i < table.inputs; i++) {
        const k = x[first + i];
        if (!table.nonzero[i * out + o]) continue;
        if (!constantPassesThrough(n, inputType, k)) return null;
        value += k * table.sum[i * out + o];
      }
      return value;
    }).map((v) => (v === null ? null : n.activation === 'relu' ? Math.max(0, v) : n.activation === 'relu6' ? Math.min(6, Math.max(0, v)) : v));
  };

  return match(node)
    .with({ op: 'input' }, varying)
    .with({ op: 'conv2d' }, { op: 'dense' }, (n) => linear(n, constantsOf(n.input), types.get(n.input) as TensorType))
    .with({ op: 'batch_norm' }, (n) => {
      const w = bnWeightNames(n.params);
      const [gamma, beta, mean, variance] = [w.gamma, w.beta, w.mean, w.variance].map((name) => graph.weights[name].data);
      return constantsOf(n.input).map((k, c) =>
        gamma[c] === 0 ? beta[c] : k === null ? null : (gamma[c] * (k - mean[c])) / Math.sqrt(variance[c] + n.epsilon) + beta[c],
      );
    })
    .with({ op: 'scale_shift' }, (n) => {
      const [scale, shift] = [weight(n.scale), weight(n.shift)];
      return constantsOf(n.input).map((k, c) => {
        const s = scale ? scale[c] : 1;
        const b = shift ? shift[c] : 0;
        return s === 0 ? b : k === null ? null : k * s + b;
      });
    })
    .with({ op: 'relu' }, (n) => constantsOf(n.input).map((k) => (k === null ? null : Math.max(0, k))))
    .with({ op: 'relu6' }, (n) => constantsOf(n.input).map((k) => (k === null ? null : Math.min(6, Math.max(0, k)))))
    // Max pooling ignores padded positions, so a constant stays constant.
    .with({ op: 'max_pool' }, { op: 'global_avg_pool' }, (n) => constantsOf(n.input))
    .with({ op: 'avg_pool' }, (n) => {
      const x = types.get(n.input) as TensorType;
      const padded = n.countIncludePad && !seesNoPadding(n, x);
      return constantsOf(n.input).map((k) => (k === null ? null : padded && k !== 0 ? null : k));
    })
    .with({ op: 'add' }, (n) => {
      const operands = n.inputs.map(constantsOf);
      return range(out).map((c) => {
        let sum = 0;
        for (const o of operands) {
          const k = o[c];
          if (k === null) return null;
          sum += k;
        }
        return sum;
      });
    })
    .with({ op: 'concat' }, (n) => n.inputs.flatMap((v) => [...constantsOf(v)]))
    .with({ op: 'flatten' }, (n) => {
      const x = constantsOf(n.input);
      return range(out).map((f) => x[f % x.length]);
    })
    .with({ op: 'gather' }, (n) => {
      const x = constantsOf(n.input);
      return n.indices.map((i) => x[i]);
    })
    // Softmax mixes channels; treating it as varying is always safe.
    .with({ op: 'softmax' }, varying)
    .exhaustive();
}

export function analyzeChannels(graph: Graph): ChannelFlow {
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const typeOf = (v: ValueId) => types.get(v) as TensorType;
  const tables = new Map<ValueId, LinearTable>();
  for (const n of graph.nodes) if (n.op === 'conv2d' || n.op === 'dense') tables.set(n.id, linearTable(graph, n));

  // Forward: constants.
  const constants = new Map<ValueId, ChannelConstants>();
  const constantsOf = (v: ValueId) => constants.get(v) as ChannelConstants;
  for (const node of graph.nodes) constants.set(node.id, forwardConstants(graph, node, constantsOf, tables, types));

  const independent = new Map<ValueId, Uint8Array>();
  for (const node of graph.nodes) {
    independent.set(node.id, forwardIndependence(graph, node, (v) => independent.get(v) as Uint8Array, tables, typeOf));
  }

  // Backward: need, kept and reads.
  const need = new Map<ValueId, Uint8Array>(graph.nodes.map((n) => [n.id, new Uint8Array(channelsOf(n.type))]));
  for (const out of graph.outputs) need.get(out)?.fill(1);
  const kept = new Map<ValueId, readonly number[]>();
  const reads = new Map<ValueId, readonly (readonly number[])[]>();
  const constantOperands = new Map<ValueId, ReadonlySet<number>>();

  for (let idx = graph.nodes.length - 1; idx >= 0; idx--) {
    const node = graph.nodes[idx];
    const needed = need.get(node.id) as Uint8Array;
    const operands = inputsOf(node);
    const keptFlags = expandKept(node, needed, operands.map(typeOf));
    const keptChannels = indicesOf(keptFlags);
    kept.set(node.id, keptChannels);
    const operandReads = keptChannels.length === 0 ? operands.map((v) => new Uint8Array(channelsOf(typeOf(v)))) : readsOf(node, keptFlags, operands, typeOf, constantsOf, tables, constantOperands, (v) => need.get(v) as Uint8Array);
    operandReads.forEach((flags, i) => {
      const target = need.get(operands[i]) as Uint8Array;
      for (let c = 0; c < flags.length; c++) if (flags[c]) target[c] = 1;
    });
    reads.set(node.id, operandReads.map(indicesOf));
  }
  // Graph inputs are given whole by the caller.
  for (const n of graph.nodes) if (n.op === 'input') kept.set(n.id, range(channelsOf(n.type)));
  return { constants, independent, kept, reads, constantOperands, tables };
}

/** Which output channels of a node do not depend on the graph's inputs. */
function forwardIndependence(graph: Graph, node: Node, of: (v: ValueId) => Uint8Array, tables: ReadonlyMap<ValueId, LinearTable>, typeOf: (v: ValueId) => TensorType): Uint8Array {
  const out = channelsOf(node.type);
  const linear = (n: Conv2dNode | DenseNode): Uint8Array => {
    const x = of(n.input);
    const table = tables.get(n.id) as LinearTable;
    const kind = n.op === 'conv2d' ? convKind(n, typeOf(n.input)) : 'full';
    return Uint8Array.from({ length: out }, (_, o) => {
      const first = n.op === 'conv2d' && kind !== 'full' ? groupOf(n, x.length, o).firstInput : 0;
      for (let i = 0; i < table.inputs; i++) if (table.nonzero[i * out + o] && !x[first + i]) return 0;
      return 1;
    });
  };
  return match(node)
    .with({ op: 'input' }, () => new Uint8Array(out))
    .with({ op: 'conv2d' }, { op: 'dense' }, linear)
    .with({ op: 'batch_norm' }, (n) => {
      const gamma = graph.weights[bnWeightNames(n.params).gamma].data;
      return of(n.input).map((f, c) => (gamma[c] === 0 ? 1 : f));
    })
    .with({ op: 'scale_shift' }, (n) => {
      const scale = n.scale === null ? null : graph.weights[n.scale].data;
      return of(n.input).map((f, c) => (scale !== null && scale[c] === 0 ? 1 : f));
    })
    .with({ op: 'relu' }, { op: 'relu6' }, { op: 'max_pool' }, { op: 'avg_pool' }, { op: 'global_avg_pool' }, (n) => Uint8Array.from(of(n.input)))
    .with({ op: 'add' }, (n) => Uint8Array.from({ length: out }, (_, c) => (n.inputs.every((v) => of(v)[c] === 1) ? 1 : 0)))
    .with({ op: 'concat' }, (n) => Uint8Array.from(n.inputs.flatMap((v) => [...of(v)])))
    .with({ op: 'flatten' }, (n) => {
      const x = of(n.input);
      return Uint8Array.from({ length: out }, (_, f) => x[f % x.length]);
    })
    .with({ op: 'gather' }, (n) => Uint8Array.from(n.indices, (i) => of(n.input)[i]))
    .with({ op: 'softmax' }, (n) => new Uint8Array(out).fill(of(n.input).every((f) => f === 1) ? 1 : 0))
    .exhaustive();
}

/** The channels a node computes, given those its consumers need. */
function expandKept(node: Node, needed: Uint8Array, operandTypes: readonly TensorType[]): Uint8Array {
  const anyNeeded = needed.some((f) => f === 1);
  return match(node)
    .with({ op: 'input' }, () => new Uint8Array(needed.length).fill(1))
    .with({ op: 'softmax' }, () => new Uint8Array(needed.length).fill(anyNeeded ? 1 : 0))
    .with({ op: 'conv2d' }, (n) => {
      if (convKind(n, operandTypes[0]) !== 'grouped' || linearInputOffset(n, operandTypes[0], needed) !== null) return needed;
      // Groups must stay equal in size: keep every channel of a group that has a needed one.
      const cout = needed.length;
      const width = cout / n.groups;
      const flags = new Uint8Array(cout);
      for (let g = 0; g < n.groups; g++) {
        if (needed.subarray(g * width, (g + 1) * width).some((f) => f === 1)) flags.fill(1, g * width, (g + 1) * width);
      }
      return flags;
    })
    .with({ op: 'flatten' }, () => {
      // Flatten keeps every spatial position of a channel that any needed feature comes from.
      const c = channelsOf(operandTypes[0]);
      const channels = new Uint8Array(c);
      needed.forEach((f, i) => {
        if (f) channels[i % c] = 1;
      });
      return Uint8Array.from(needed, (_, i) => channels[i % c]);
    })
    .otherwise(() => needed);
}

/** The operand channels a node reads to compute `keptFlags`. */
function readsOf(
  node: Node,
  keptFlags: Uint8Array,
  operands: readonly ValueId[],
  typeOf: (v: ValueId) => TensorType,
  constantsOf: (v: ValueId) => ChannelConstants,
  tables: ReadonlyMap<ValueId, LinearTable>,
  constantOperands: Map<ValueId, ReadonlySet<number>>,
  needOf: (v: ValueId) => Uint8Array,
): Uint8Array[] {
  const sameChannels = (): Uint8Array[] => [Uint8Array.from(keptFlags)];
  const linearReads = (n: Conv2dNode | DenseNode, offset: number): Uint8Array[] => {
    const x = typeOf(n.input);
    const cin = channelsOf(x);
    const flags = new Uint8Array(cin);
    const table = tables.get(n.id) as LinearTable;
    const k = constantsOf(n.input);
    for (let o = 0; o < keptFlags.length; o++) {
      if (!keptFlags[o]) continue;
      for (let i = 0; i < table.inputs; i++) {
        if (table.nonzero[i * table.outputs + o] && !absorbsConstant(n, x, k[offset + i])) flags[offset + i] = 1;
      }
    }
    // Every input folded into the bias, yet the outputs are needed: read one channel with zero
    // weights, so that the layer still has an input to give its constant outputs their shape.
    // Prefer a channel other consumers need anyway.
    if (keptFlags.some((f) => f === 1) && flags.every((f) => f === 0)) {
      const alreadyNeeded = needOf(n.input).subarray(offset, offset + table.inputs).indexOf(1);
      flags[offset + Math.max(alreadyNeeded, 0)] = 1;
    }
    return [flags];
  };
  return match(node)
    .with({ op: 'input' }, () => [])
    .with({ op: 'dense' }, (n) => linearReads(n, 0))
    .with({ op: 'conv2d' }, (n) => {
      const x = typeOf(n.input);
      const offset = linearInputOffset(n, x, keptFlags);
      if (offset !== null) return linearReads(n, offset);
      if (convKind(n, x) === 'depthwise') return sameChannels();
      const cin = channelsOf(x);
      const flags = new Uint8Array(cin);
      keptFlags.forEach((f, o) => {
        if (!f) return;
        const { firstInput, width } = groupOf(n, cin, o);
        flags.fill(1, firstInput, firstInput + width);
      });
      return [flags];
    })
    .with(
      { op: 'batch_norm' },
      { op: 'scale_shift' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      sameChannels,
    )
    .with({ op: 'softmax' }, () => [new Uint8Array(keptFlags.length).fill(1)])
    .with({ op: 'add' }, (n) => {
      // An operand that is constant on every kept channel becomes a shift of the result; keep at
      // least one operand so that the add still has something to shift.
      const constant = new Set<number>();
      n.inputs.forEach((v, i) => {
        const k = constantsOf(v);
        if (keptFlags.every((f, c) => !f || k[c] !== null)) constant.add(i);
      });
      if (constant.size === n.inputs.length) constant.delete(0);
      constantOperands.set(n.id, constant);
      return n.inputs.map((_, i) => (constant.has(i) ? new Uint8Array(keptFlags.length) : Uint8Array.from(keptFlags)));
    })
    .with({ op: 'concat' }, (n) => {
      let offset = 0;
      return n.inputs.map((v) => {
        const c = channelsOf(typeOf(v));
        const slice = keptFlags.slice(offset, offset + c);
        offset += c;
        return slice;
      });
    })
    .with({ op: 'flatten' }, (n) => {
      const c = channelsOf(typeOf(n.input));
      return [Uint8Array.from({ length: c }, (_, i) => keptFlags[i])];
    })
    .with({ op: 'gather' }, (n) => {
      const flags = new Uint8Array(channelsOf(typeOf(n.input)));
      n.indices.forEach((src, j) => {
        if (keptFlags[j]) flags[src] = 1;
      });
      return [flags];
    })
    .exhaustive();
}
