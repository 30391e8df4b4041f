// Liveness for emission: after which node each value is read for the last time, so generated
// code frees every intermediate at once instead of holding all of them until the end.
import { inputsOf } from '../ir/node.ts';
import type { Graph, ValueId } from '../ir/types.ts';

export interface Liveness {
  /** freedAfter[i]: values whose last reader is graph.nodes[i] (or, for a value nobody reads, its producer). */
  readonly freedAfter: readonly (readonly ValueId[])[];
  /** Values the caller receives: never freed by the graph. */
  readonly escaping: ReadonlySet<ValueId>;
}

export function liveness(graph: Graph): Liveness {
  const escaping = new Set(graph.outputs);
  const lastReader = new Map<ValueId, number>();
  graph.nodes.forEach((node, i) => {
    lastReader.set(node.id, i);
    for (const v of inputsOf(node)) lastReader.set(v, i);
  });
  const freedAfter: ValueId[][] = graph.nodes.map(() => []);
  for (const [v, i] of lastReader) if (!escaping.has(v)) freedAfter[i].push(v);
  return { freedAfter, escaping };
}

/** The largest number of values alive at once (a rough peak-memory figure for reports). */
export function peakLiveValues(graph: Graph, live: Liveness = liveness(graph)): number {
  let alive = 0;
  let peak = 0;
  graph.nodes.forEach((_, i) => {
    alive += 1;
    peak = Math.max(peak, alive);
    alive -= live.freedAfter[i].length;
  });
  return peak;
}
