// The compact graph under construction while pruning: nodes and sliced weights, the compact value
// holding each original value's kept channels, and the channel selections (gathers) consumers
// share when they read fewer channels than their producer keeps.
import { freshName } from '../ir/fresh_name.ts';
import { channelsOf, f32, type Graph, type Node, type ValueId, type Weight } from '../ir/types.ts';
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

export class CompactGraphBuilder {
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

  newValueId(base: string): ValueId {
    const id = freshName(base, (name) => this.ids.has(name));
    this.ids.add(id);
    return id;
  }

  newWeightName(base: string): string {
    return freshName(base, (name) => name in this.weights || name in this.source.weights);
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
