// Graph assertions for tests: structural equality with a readable first difference.
import { expect } from 'vitest';
import { describeGraphDifference } from '../../src/ir/equal.ts';
import type { Graph } from '../../src/ir/types.ts';

export { allOpsGraph, graphOf } from './all_ops_graph.ts';

/** Fails with the first structural difference (node id, field, both values) unless a equals b. */
export function expectGraphsEqual(actual: Graph, expected: Graph): void {
  const difference = describeGraphDifference(actual, expected);
  expect(difference, `graphs differ (actual vs expected): ${difference}`).toBeNull();
}
