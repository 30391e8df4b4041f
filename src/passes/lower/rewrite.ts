// Peephole rewriting: a rule looks at one node (the root) and its producers, and either declines
// or returns the node that replaces the root and the producers it absorbed. One fixpoint driver
// runs a table of rules over a graph (in the spirit of tinygrad's pattern matcher), so each
// lowering pass is only its table.
import { castDraft, produce } from 'immer';
import { nodeMap, usersOf, weightsOf, withInputs } from '../../ir/node.ts';
import type { Graph, Node, ValueId, Weight, WeightName } from '../../ir/types.ts';

/** What a rule sees besides the root: the graph and who reads what. */
export interface RewriteContext {
  readonly graph: Graph;
  /** The node producing value `v`. */
  readonly producer: (v: ValueId) => Node | undefined;
  /** Number of reads of `v` by nodes, plus one for each time it is a graph output. */
  readonly uses: (v: ValueId) => number;
  /** Nodes (other than `except`) that refer to weight `name`. */
  readonly weightShared: (name: WeightName, except: readonly ValueId[]) => boolean;
}

export interface Rewrite {
  /** Takes the root's place in the graph; readers of the root read this node's value instead. */
  readonly replacement: Node;
  /** Producers folded into the replacement; each must have had the root as its only reader. */
  readonly absorbed: readonly ValueId[];
  /** Weights the replacement needs that the graph does not have, or has with other data. */
  readonly weights: Readonly<Record<WeightName, Weight>>;
  /** Producers rewritten in place: each replaces the node of the same id. */
  readonly updated?: readonly Node[];
}

/** The root computes its input unchanged: its readers read `forward` instead (identities). */
export interface Forward {
  readonly forward: ValueId;
}

export type RuleResult = Rewrite | Forward | null;

/** A rewrite of one node: `algebra` states the identity that makes it correct. */
export interface PeepholeRule {
  readonly name: string;
  readonly algebra: string;
  readonly apply: (root: Node, ctx: RewriteContext) => RuleResult;
}

export function rewriteContext(graph: Graph): RewriteContext {
  const nodes = nodeMap(graph);
  const users = usersOf(graph);
  const outputUses = new Map<ValueId, number>();
  for (const v of graph.outputs) outputUses.set(v, (outputUses.get(v) ?? 0) + 1);
  const weightUsers = new Map<WeightName, ValueId[]>();
  for (const n of graph.nodes) for (const w of weightsOf(n)) weightUsers.set(w, [...(weightUsers.get(w) ?? []), n.id]);
  return {
    graph,
    producer: (v) => nodes.get(v),
    uses: (v) => (users.get(v)?.length ?? 0) + (outputUses.get(v) ?? 0),
    weightShared: (name, except) => (weightUsers.get(name) ?? []).some((id) => !except.includes(id)),
  };
}

/** The graph with `rewrite` applied at `root`; weights no node refers to any more are dropped. */
export function applyRewrite(graph: Graph, root: ValueId, rewrite: Rewrite): Graph {
  const absorbed = new Set(rewrite.absorbed);
  const updated = new Map((rewrite.updated ?? []).map((n) => [n.id, n]));
  const newId = rewrite.replacement.id;
  const rename = (v: ValueId) => (v === root ? newId : v);
  const next = produce(graph, (draft) => {
    const nodes: Node[] = [];
    for (const n of graph.nodes) {
      if (absorbed.has(n.id)) continue;
      nodes.push(n.id === root ? rewrite.replacement : (updated.get(n.id) ?? withInputs(n, rename)));
    }
    draft.nodes = castDraft(nodes);
    draft.outputs = graph.outputs.map(rename);
    for (const [name, w] of Object.entries(rewrite.weights)) draft.weights[name] = castDraft(w);
  });
  return dropUnusedWeights(next);
}

/**
 * Whether an identity node `from` may be dropped for `to`. A graph output keeps its name (the
 * emitted module returns outputs by name), so an output is forwarded only onto a value that is
 * neither a graph input nor an output itself: that value then takes the output's name.
 */
export function canForward(graph: Graph, from: ValueId, to: ValueId): boolean {
  if (!graph.outputs.includes(from)) return true;
  return !graph.outputs.includes(to) && !graph.nodes.some((n) => n.id === to && n.op === 'input');
}

/**
 * The graph with every read of `from` reading `to`, and node `from` removed; when `from` is a
 * graph output (see canForward), `to` is renamed `from` instead, so the output keeps its name.
 */
export function forwardValue(graph: Graph, from: ValueId, to: ValueId): Graph {
  if (graph.outputs.includes(from)) {
    const renamed = (v: ValueId) => (v === to ? from : v);
    const next = produce(graph, (draft) => {
      draft.nodes = castDraft(graph.nodes.filter((n) => n.id !== from).map((n) => ({ ...withInputs(n, renamed), id: renamed(n.id) }) as Node));
    });
    return dropUnusedWeights(next);
  }
  const rename = (v: ValueId) => (v === from ? to : v);
  const next = produce(graph, (draft) => {
    draft.nodes = castDraft(graph.nodes.filter((n) => n.id !== from).map((n) => withInputs(n, rename)));
    draft.outputs = graph.outputs.map(rename);
  });
  return dropUnusedWeights(next);
}

/** Removes weights that no node refers to (a folded BN's parameters, a dead layer's filter). */
export function dropUnusedWeights(graph: Graph): Graph {
  const used = new Set(graph.nodes.flatMap((n) => weightsOf(n)));
  const unused = Object.keys(graph.weights).filter((w) => !used.has(w));
  if (unused.length === 0) return graph;
  return produce(graph, (draft) => {
    for (const w of unused) delete draft.weights[w];
  });
}

/**
 * Applies the first matching rule at each node, in graph order, until no rule matches anywhere.
 * Every rewrite removes at least one node or changes a node into one no rule of the same table
 * matches again, so the loop ends; `maxRewrites` guards against a faulty table.
 */
export function rewriteToFixpoint(graph: Graph, rules: readonly PeepholeRule[], maxRewrites = 100_000): Graph {
  let current = graph;
  let rewrites = 0;
  let changed = true;
  while (changed) {
    changed = false;
    let ctx = rewriteContext(current);
    for (let i = 0; i < current.nodes.length; i++) {
      const root = current.nodes[i];
      for (const rule of rules) {
        const result = rule.apply(root, ctx);
        if (result === null || ('forward' in result && !canForward(current, root.id, result.forward))) continue;
        if (++rewrites > maxRewrites) throw new Error(`peephole rule ${rule.name} did not reach a fixpoint after ${maxRewrites} rewrites`);
        current = 'forward' in result ? forwardValue(current, root.id, result.forward) : applyRewrite(current, root.id, result);
        ctx = rewriteContext(current);
        changed = true;
        break;
      }
      if (changed) break;
    }
  }
  return current;
}

/** Whether `v` is produced by a node of op `op` whose only reader is the root being rewritten. */
export function soleProducer<O extends Node['op']>(ctx: RewriteContext, v: ValueId, op: O): Extract<Node, { op: O }> | null {
  const p = ctx.producer(v);
  if (!p || p.op !== op || ctx.uses(v) !== 1) return null;
  return p as Extract<Node, { op: O }>;
}

/** A weight name not yet in the graph: `base`, else `base.1`, `base.2`, ... */
export function freshWeightName(graph: Graph, base: WeightName, taken: ReadonlySet<WeightName> = new Set()): WeightName {
  if (!(base in graph.weights) && !taken.has(base)) return base;
  for (let k = 1; ; k++) {
    const name = `${base}.${k}`;
    if (!(name in graph.weights) && !taken.has(name)) return name;
  }
}
