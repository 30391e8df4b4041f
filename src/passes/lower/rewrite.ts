// Peephole rewriting: a rule looks at one node (the root) and its producers, and either declines
// or returns the node that replaces the root and the producers it absorbed. One driver runs a
// table of rules over a graph to a fixpoint, so each lowering pass is only its table.
//
// Rules are indexed by the op of their root (tinygrad's PatternMatcher keeps a dict by op), and
// each rule's root is typed by that op. The driver is a worklist (MLIR's
// GreedyPatternRewriteDriver): every node starts on it; when a rewrite changes the graph, the
// nodes whose match may have changed go back on it (the replacement, the nodes reading the
// changed values, and the producers and readers of every value whose use count changed), and use
// counts are kept up to date incrementally. The cost is O(nodes + rewrites x nodes touched), not
// O(rewrites x nodes) as a restart from node 0 would be. The worklist is ordered by graph
// position, so the rewrite applied is always the first one in graph order, as a restart would
// find it: the result is the same.
import { produce } from 'immer';
import { inputsOf, weightsOf, withInputs } from '../../ir/node.ts';
import type { Graph, Node, NodeOf, Op, ValueId, Weight, WeightName, Weights } from '../../ir/types.ts';
import { MinHeap } from '../../util/min_heap.ts';
import { freshName } from '../../ir/fresh_name.ts';

/** What a rule sees besides the root: the weights, producers, and who reads what. */
export interface RewriteContext {
  /** The graph's weights as they are now. */
  readonly weights: Weights;
  /** The node producing value `v`. */
  readonly producer: (v: ValueId) => Node | undefined;
  /** Number of reads of `v` by nodes, plus one for each time it is a graph output. */
  readonly uses: (v: ValueId) => number;
  /** Whether nodes other than `except` refer to weight `name`. */
  readonly weightShared: (name: WeightName, except: readonly ValueId[]) => boolean;
  /** A weight name not in the graph nor in `taken` (see fresh_name.ts). */
  readonly freshWeightName: (base: WeightName, taken?: ReadonlySet<WeightName>) => WeightName;
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

/** A rewrite of nodes of op `O`: `algebra` states the identity that makes it correct. */
export interface PeepholeRule<O extends Op = Op> {
  readonly name: string;
  readonly algebra: string;
  /** The op of the nodes the rule rewrites; the driver offers it no other node. */
  readonly root: O;
  readonly apply: (root: NodeOf<O>, ctx: RewriteContext) => RuleResult;
}

/** A rule of any root op (what rule tables hold). */
export type AnyPeepholeRule = { [O in Op]: PeepholeRule<O> }[Op];

/** Removes weights that no node refers to (a folded BN's parameters, a dead layer's filter). */
export function dropUnusedWeights(graph: Graph): Graph {
  const used = new Set(graph.nodes.flatMap((n) => weightsOf(n)));
  const unused = Object.keys(graph.weights).filter((w) => !used.has(w));
  if (unused.length === 0) return graph;
  return produce(graph, (draft) => {
    for (const w of unused) delete draft.weights[w];
  });
}

const increment = <K>(counts: Map<K, number>, key: K, by: number) => counts.set(key, (counts.get(key) ?? 0) + by);

/** The graph being rewritten, with the indexes rules need, kept up to date on every change. */
class RewriteState {
  /** Node at each graph position; null once removed. */
  readonly slots: (Node | null)[];
  readonly position = new Map<ValueId, number>();
  readonly nodes = new Map<ValueId, Node>();
  /** For each value, the nodes reading it and how many times each does. */
  readonly readers = new Map<ValueId, Map<ValueId, number>>();
  readonly reads = new Map<ValueId, number>();
  readonly outputUses = new Map<ValueId, number>();
  readonly weightUsers = new Map<WeightName, Set<ValueId>>();
  readonly weights: Record<WeightName, Weight>;
  outputs: ValueId[];
  /** Values whose use count or producer changed since the caller last looked. */
  readonly touched = new Set<ValueId>();
  /** Weights that lost their last user in the current change. */
  private readonly orphans = new Set<WeightName>();

  constructor(graph: Graph) {
    this.slots = [...graph.nodes];
    this.weights = { ...graph.weights };
    this.outputs = [...graph.outputs];
    for (const v of graph.outputs) increment(this.outputUses, v, 1);
    graph.nodes.forEach((n, i) => {
      this.position.set(n.id, i);
      this.link(n);
    });
    // The first rewrite drops every weight no node refers to, those of the input graph included.
    for (const name of Object.keys(this.weights)) if (!this.weightUsers.has(name)) this.orphans.add(name);
  }

  uses(v: ValueId): number {
    return (this.reads.get(v) ?? 0) + (this.outputUses.get(v) ?? 0);
  }

  private link(n: Node): void {
    this.nodes.set(n.id, n);
    for (const v of inputsOf(n)) {
      let r = this.readers.get(v);
      if (!r) this.readers.set(v, (r = new Map()));
      increment(r, n.id, 1);
      increment(this.reads, v, 1);
      this.touched.add(v);
    }
    for (const w of weightsOf(n)) {
      let users = this.weightUsers.get(w);
      if (!users) this.weightUsers.set(w, (users = new Set()));
      users.add(n.id);
      this.orphans.delete(w);
    }
  }

  private unlink(n: Node): void {
    this.nodes.delete(n.id);
    for (const v of inputsOf(n)) {
      const r = this.readers.get(v);
      const count = (r?.get(n.id) ?? 0) - 1;
      if (count > 0) r?.set(n.id, count);
      else r?.delete(n.id);
      increment(this.reads, v, -1);
      this.touched.add(v);
    }
    for (const w of weightsOf(n)) {
      const users = this.weightUsers.get(w);
      users?.delete(n.id);
      if (users?.size === 0) {
        this.weightUsers.delete(w);
        this.orphans.add(w);
      }
    }
  }

  /** Puts `node` where the node `id` was (same id or a new one for the same value). */
  replace(id: ValueId, node: Node): void {
    const i = this.position.get(id) as number;
    this.unlink(this.slots[i] as Node);
    if (node.id !== id) {
      this.position.delete(id);
      this.position.set(node.id, i);
    }
    this.slots[i] = node;
    this.link(node);
    this.touched.add(node.id);
  }

  remove(id: ValueId): void {
    const i = this.position.get(id) as number;
    this.unlink(this.slots[i] as Node);
    this.position.delete(id);
    this.slots[i] = null;
    this.touched.add(id);
  }

  /** Every read of `from` (by nodes and as an output) reads `to` instead. */
  redirect(from: ValueId, to: ValueId): void {
    if (from === to) return;
    const rename = (v: ValueId) => (v === from ? to : v);
    for (const reader of [...(this.readers.get(from)?.keys() ?? [])]) {
      this.replace(reader, withInputs(this.nodes.get(reader) as Node, rename));
    }
    const asOutput = this.outputUses.get(from) ?? 0;
    if (asOutput > 0) {
      this.outputs = this.outputs.map(rename);
      this.outputUses.delete(from);
      increment(this.outputUses, to, asOutput);
      this.touched.add(from).add(to);
    }
  }

  /** Deletes the weights that lost their last user (after the new nodes took theirs). */
  dropOrphans(): void {
    for (const w of this.orphans) delete this.weights[w];
    this.orphans.clear();
  }

  freshWeightName(base: WeightName, taken: ReadonlySet<WeightName> = new Set()): WeightName {
    return freshName(base, (name) => name in this.weights || taken.has(name));
  }

  /** The rewritten graph: a new object (the input is not touched), built without immer's deep freeze. */
  toGraph(graph: Graph): Graph {
    return { ...graph, nodes: this.slots.filter((n): n is Node => n !== null), outputs: this.outputs, weights: this.weights };
  }
}

/**
 * Whether the identity node `from` may be dropped for `to`. A graph output keeps its name (the
 * emitted module returns outputs by name), so an output is forwarded only onto a value that is
 * neither a graph input nor an output itself: that value then takes the output's name.
 */
function canForward(state: RewriteState, from: ValueId, to: ValueId): boolean {
  if ((state.outputUses.get(from) ?? 0) === 0) return true;
  return (state.outputUses.get(to) ?? 0) === 0 && state.nodes.get(to)?.op !== 'input';
}

function applyResult(state: RewriteState, root: ValueId, result: Rewrite | Forward): void {
  if ('forward' in result && (state.outputUses.get(root) ?? 0) > 0) {
    // An output: the value it forwards to takes its name (see canForward).
    const to = result.forward;
    state.remove(root);
    state.replace(to, { ...(state.nodes.get(to) as Node), id: root });
    state.redirect(to, root);
  } else if ('forward' in result) {
    state.redirect(root, result.forward);
    state.remove(root);
  } else {
    Object.assign(state.weights, result.weights);
    for (const id of result.absorbed) state.remove(id);
    for (const n of result.updated ?? []) state.replace(n.id, n);
    state.replace(root, result.replacement);
    state.redirect(root, result.replacement.id);
  }
  state.dropOrphans();
}

/** Rules by root op, in table order. */
function indexByRoot(rules: readonly AnyPeepholeRule[]): ReadonlyMap<Op, readonly AnyPeepholeRule[]> {
  const byOp = new Map<Op, AnyPeepholeRule[]>();
  for (const rule of rules) byOp.set(rule.root, [...(byOp.get(rule.root) ?? []), rule]);
  return byOp;
}

/** The rule applied to a node of its root op (the index guarantees the op). */
const applyRule = (rule: AnyPeepholeRule, node: Node, ctx: RewriteContext): RuleResult =>
  (rule.apply as (root: Node, ctx: RewriteContext) => RuleResult)(node, ctx);

/** Statistics of one fixpoint run, for the complexity guard. */
export interface RewriteStats {
  /** Nodes taken from the worklist. */
  readonly visits: number;
  /** Rule applications tried (matched or not). */
  readonly attempts: number;
  readonly rewrites: number;
}

/**
 * Applies the rules until none matches anywhere. Every rewrite removes at least one node or
 * changes a node into one no rule of the same table matches again, so the loop ends; `maxRewrites`
 * guards against a faulty table.
 */
export function rewriteToFixpoint(
  graph: Graph,
  rules: readonly AnyPeepholeRule[],
  opts: { maxRewrites?: number; stats?: (s: RewriteStats) => void } = {},
): Graph {
  const maxRewrites = opts.maxRewrites ?? 100_000;
  const byOp = indexByRoot(rules);
  const state = new RewriteState(graph);
  const ctx: RewriteContext = {
    weights: state.weights,
    producer: (v) => state.nodes.get(v),
    uses: (v) => state.uses(v),
    weightShared: (name, except) => [...(state.weightUsers.get(name) ?? [])].some((id) => !except.includes(id)),
    freshWeightName: (base, taken) => state.freshWeightName(base, taken),
  };
  const queued = new Uint8Array(graph.nodes.length);
  const worklist = new MinHeap();
  const enqueue = (id: ValueId) => {
    const i = state.position.get(id);
    if (i !== undefined && queued[i] === 0 && byOp.has((state.slots[i] as Node).op)) {
      queued[i] = 1;
      worklist.push(i);
    }
  };
  graph.nodes.forEach((n) => enqueue(n.id));
  let visits = 0;
  let attempts = 0;
  let rewrites = 0;
  for (let i = worklist.pop(); i !== undefined; i = worklist.pop()) {
    queued[i] = 0;
    visits++;
    const node = state.slots[i];
    if (node === null) continue;
    for (const rule of byOp.get(node.op) ?? []) {
      attempts++;
      const result = applyRule(rule, node, ctx);
      if (result === null || ('forward' in result && !canForward(state, node.id, result.forward))) continue;
      if (++rewrites > maxRewrites) throw new Error(`peephole rule ${rule.name} did not reach a fixpoint after ${maxRewrites} rewrites`);
      state.touched.clear();
      applyResult(state, node.id, result);
      // Whatever reads or produces a value whose producer or use count changed may match now.
      for (const v of state.touched) {
        enqueue(v);
        for (const reader of state.readers.get(v)?.keys() ?? []) enqueue(reader);
      }
      break;
    }
  }
  opts.stats?.({ visits, attempts, rewrites });
  return rewrites === 0 ? graph : state.toGraph(graph);
}

/** Whether `v` is produced by a node of op `op` whose only reader is the root being rewritten. */
export function soleProducer<O extends Op>(ctx: RewriteContext, v: ValueId, op: O): NodeOf<O> | null {
  const p = ctx.producer(v);
  if (!p || p.op !== op || ctx.uses(v) !== 1) return null;
  return p as NodeOf<O>;
}
