// The printed IR of a small graph that uses every op is kept in test/golden/all_ops.slim: a
// change of the textual format shows up as a diff of that file, reviewed and committed by hand.
// Regenerate after an intended change (the test never writes it):
//   npx tsx -e "import('./test/helpers/all_ops_graph.ts').then(async (m) => process.stdout.write((await import('./src/ir/text/printer.ts')).printGraph(m.allOpsGraph())))" > test/golden/all_ops.slim
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../src/ir/text/parser.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import { allOpsGraph, expectGraphsEqual } from '../helpers/graphs.ts';

const golden = readFileSync(new URL('../golden/all_ops.slim', import.meta.url), 'utf8');

describe('golden IR text', () => {
  it('prints the every-op graph exactly as the committed golden file', () => {
    expect(printGraph(allOpsGraph())).toBe(golden);
  });

  it('parses the golden file back to the graph it was printed from', () => {
    const graph = allOpsGraph();
    expectGraphsEqual(parseGraph(golden, graph.weights, 'all_ops.slim'), graph);
  });
});
