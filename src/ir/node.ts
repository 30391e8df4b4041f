// Generic views of a node: which values it reads, which weights it refers to, and a way to
// rename its inputs. Each is one exhaustive match, so a new op fails to compile here first.
import { match } from 'ts-pattern';
import type { Graph, Node, ValueId, WeightName } from './types.ts';

export function inputsOf(node: Node): readonly ValueId[] {
  return match(node)
    .with({ op: 'input' }, () => [])
    .with({ op: 'add' }, { op: 'concat' }, (n) => n.inputs)
    .with(
      { op: 'conv2d' },
      { op: 'batch_norm' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      { op: 'flatten' },
      { op: 'dense' },
      { op: 'gather' },
      { op: 'scale_shift' },
      { op: 'softmax' },
      (n) => [n.input],
    )
    .exhaustive();
}

/** Weight names in BatchNorm parameter order. */
export const bnWeightNames = (params: string) =>
  ({
    gamma: `${params}.gamma`,
    beta: `${params}.beta`,
    mean: `${params}.mean`,
    variance: `${params}.var`,
  }) as const;

export function weightsOf(node: Node): readonly WeightName[] {
  const present = (...names: (WeightName | null)[]) => names.filter((n): n is WeightName => n !== null);
  return match(node)
    .with({ op: 'conv2d' }, (n) => present(n.filter, n.bias))
    .with({ op: 'dense' }, (n) => present(n.weight, n.bias))
    .with({ op: 'batch_norm' }, (n) => Object.values(bnWeightNames(n.params)))
    .with({ op: 'scale_shift' }, (n) => present(n.scale, n.shift))
    .with(
      { op: 'input' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      { op: 'add' },
      { op: 'concat' },
      { op: 'flatten' },
      { op: 'gather' },
      { op: 'softmax' },
      () => [],
    )
    .exhaustive();
}

/** The same node reading `rename(v)` instead of each input value v. */
export function withInputs(node: Node, rename: (v: ValueId) => ValueId): Node {
  return match(node)
    .with({ op: 'input' }, (n) => n)
    .with({ op: 'add' }, { op: 'concat' }, (n) => ({ ...n, inputs: n.inputs.map(rename) }))
    .with(
      { op: 'conv2d' },
      { op: 'batch_norm' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      { op: 'flatten' },
      { op: 'dense' },
      { op: 'gather' },
      { op: 'scale_shift' },
      { op: 'softmax' },
      (n) => ({ ...n, input: rename(n.input) }),
    )
    .exhaustive();
}

/** Nodes by value id. */
export function nodeMap(graph: Graph): ReadonlyMap<ValueId, Node> {
  return new Map(graph.nodes.map((n) => [n.id, n]));
}

/** For each value, the nodes that read it (in graph order; a node reading twice appears twice). */
export function usersOf(graph: Graph): ReadonlyMap<ValueId, readonly Node[]> {
  const users = new Map<ValueId, Node[]>();
  for (const n of graph.nodes) users.set(n.id, []);
  for (const n of graph.nodes) for (const v of inputsOf(n)) users.get(v)?.push(n);
  return users;
}

export const graphInputs = (graph: Graph) => graph.nodes.filter((n) => n.op === 'input');

/** Number of channels (last dimension) of a type's shape. */
export const channelsOf = (shape: readonly number[]): number => shape[shape.length - 1];
