// Lowering: nodes whose value reaches no graph output are removed, with the weights only they
// used. Graph inputs stay even when unused: they are the compiled module's calling convention.
import { castDraft, produce } from 'immer';
import { inputsOf, nodeMap } from '../../ir/node.ts';
import type { Graph, ValueId } from '../../ir/types.ts';
import { dropUnusedWeights } from './rewrite.ts';

/** Values an output depends on (outputs included). */
export function liveValues(graph: Graph): ReadonlySet<ValueId> {
  const nodes = nodeMap(graph);
  const live = new Set<ValueId>();
  const pending = [...graph.outputs];
  while (pending.length > 0) {
    const v = pending.pop() as ValueId;
    if (live.has(v)) continue;
    live.add(v);
    const node = nodes.get(v);
    if (node) pending.push(...inputsOf(node));
  }
  return live;
}

export function eliminateDeadCode(graph: Graph): Graph {
  const live = liveValues(graph);
  const dead = graph.nodes.filter((n) => n.op !== 'input' && !live.has(n.id));
  if (dead.length === 0) return graph;
  const next = produce(graph, (draft) => {
    draft.nodes = castDraft(graph.nodes.filter((n) => n.op === 'input' || live.has(n.id)));
  });
  return dropUnusedWeights(next);
}
