// Building a graph node by node: the one API the DSL, the ONNX importer and pruning use. Nodes are
// appended in order (so the graph is topologically sorted), each typed by the shape rules or given
// its type, and new names follow the one fresh-name convention (fresh_name.ts).
import { GraphError } from './errors.ts';
import { freshName } from './fresh_name.ts';
import { inferType } from './node.ts';
import type { Node, TensorType, ValueId, Weight, WeightName } from './types.ts';

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly weights: Record<WeightName, Weight> = {};
  private readonly types = new Map<ValueId, TensorType>();

  /** Names no new value (`reservedIds`) or weight (`reservedWeights`) may take, besides those in the graph. */
  constructor(
    private readonly reservedIds: (name: string) => boolean = () => false,
    private readonly reservedWeights: (name: string) => boolean = reservedIds,
  ) {}

  has(v: ValueId): boolean {
    return this.types.has(v);
  }

  typeOf(v: ValueId): TensorType {
    const t = this.types.get(v);
    if (!t) throw new GraphError(`internal: value %${v} has no type yet`);
    return t;
  }

  /** A value id not taken yet, from the preferred one. */
  freshId(preferred: string): ValueId {
    return freshName(preferred, (id) => this.types.has(id) || this.reservedIds(id));
  }

  /** A weight name not taken yet, from the preferred one. */
  freshWeightName(preferred: string): WeightName {
    return freshName(preferred, (name) => Object.hasOwn(this.weights, name) || this.reservedWeights(name));
  }

  /** Appends `node` typed by the shape rules (graph inputs keep their declared type). */
  add(node: Node): Node {
    const typed = node.op === 'input' ? node : ({ ...node, type: inferType(node, (v) => this.typeOf(v)) } as Node);
    this.append(typed);
    return typed;
  }

  /** Appends a node whose type is already right (pruning computes it). */
  append(node: Node): ValueId {
    this.nodes.push(node);
    this.types.set(node.id, node.type);
    return node.id;
  }

  /** Puts `node` in place of the node of the same id (same type). */
  replace(node: Node): void {
    this.nodes[this.nodes.findIndex((n) => n.id === node.id)] = node;
  }

  /** Stores a weight (replacing one of the same name). */
  weight(name: WeightName, w: Weight): WeightName {
    this.weights[name] = w;
    return name;
  }
}
