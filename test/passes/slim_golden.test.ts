// Golden test: a small residual + concat network with fixed masks. The compact IR and the diff
// from the input must match the committed file (never rewritten by the test run), and the
// committed IR must parse back to a graph structurally equal to the compact graph.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../src/ir/text/parser.ts';
import { expectGraphsEqual } from '../helpers/graphs.ts';
import { goldenText, SECTION } from './golden_print.ts';

const golden = readFileSync(new URL('../golden/slim_small.txt', import.meta.url), 'utf8');

describe('slimming golden', () => {
  const { text, compact } = goldenText();
  it('prints the committed compact IR and diff', () => {
    expect(text).toBe(golden);
  });
  it('the committed compact IR parses to the compact graph', () => {
    const committedIr = golden.slice(0, golden.indexOf(SECTION));
    expectGraphsEqual(parseGraph(committedIr, compact.weights, 'slim_small.txt'), compact);
  });
  it('shows the channel selections the pruning inserted', () => {
    expect(golden).toContain('%stem.select = gather %stem {indices=[0,2,3]}');
    expect(golden).toContain('%concat1 = concat %add1.select_1, %conv_c : f32[1,4,4,4]');
  });
});
