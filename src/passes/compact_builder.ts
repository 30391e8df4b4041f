// The compact graph under construction while pruning: nodes and sliced weights, the compact value
// holding each original value's kept channels, and the channel selections (gathers) consumers
// share when they read fewer channels than their producer keeps.
import { GraphBuilder } from '../ir/graph_builder.ts';
import { channelsOf, f32, type Graph, type ValueId, type Weight } from '../ir/types.ts';
import type { ChannelFlow } from './channel_flow.ts';

const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Slices a weight whose last axis is the output channel, keeping `outputs`. */
export function sliceLastAxis(w: Weight, outputs: readonly number[]): Weight {
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
export function sliceInOut(w: Weight, inputs: readonly number[], outputs: readonly number[], zeroInput: (i: number) => boolean): Weight {
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

export class CompactGraphBuilder extends GraphBuilder {
  /** Original value -> compact value holding its kept channels. */
  readonly compactValue = new Map<ValueId, ValueId>();
  private readonly selections = new Map<string, ValueId>();

  constructor(
    source: Graph,
    readonly flow: ChannelFlow,
  ) {
    // New names must not take an original value's or weight's name, even one not copied yet.
    const ids = new Set(source.nodes.map((n) => n.id));
    super(
      (id) => ids.has(id),
      (name) => Object.hasOwn(source.weights, name),
    );
  }

  kept(v: ValueId): readonly number[] {
    return this.flow.kept.get(v) as readonly number[];
  }

  /** The compact value holding channels `wanted` (a subset of kept(v), ascending) of v. */
  select(v: ValueId, wanted: readonly number[]): ValueId {
    const kept = this.kept(v);
    const value = this.compactValue.get(v) as ValueId;
    if (sameList(kept, wanted)) return value;
    const key = `${v}\u0000${wanted.join(',')}`;
    const cached = this.selections.get(key);
    if (cached) return cached;
    const position = new Map(kept.map((c, i) => [c, i]));
    const indices = wanted.map((c) => position.get(c) as number);
    const { shape } = this.typeOf(value);
    const id = this.freshId(`${v}.select`);
    this.append({ op: 'gather', id, type: f32([...shape.slice(0, -1), wanted.length]), input: value, indices });
    this.selections.set(key, id);
    return id;
  }
}
