// Lowering: nodes whose value reaches no graph output are removed, with the weights only they
// used. Graph inputs stay even when unused: they are the compiled module's calling convention.
import { castDraft, produce } from 'immer';
import { liveValues } from '../../ir/node.ts';
import type { Graph } from '../../ir/types.ts';
import { dropUnusedWeights } from './rewrite.ts';

export function eliminateDeadCode(graph: Graph): Graph {
  const live = liveValues(graph);
  const dead = graph.nodes.filter((n) => n.op !== 'input' && !live.has(n.id));
  if (dead.length === 0) return graph;
  const next = produce(graph, (draft) => {
    draft.nodes = castDraft(graph.nodes.filter((n) => n.op === 'input' || live.has(n.id)));
  });
  return dropUnusedWeights(next);
}
