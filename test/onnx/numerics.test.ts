// Imported PyTorch networks compute what PyTorch computed (reference interpreter, wasm backend),
// and Network Slimming at ratio 0.5 on them selects the channels the official code selects and
// computes the masked network PyTorch computed.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { keptCount } from '../../src/passes/masks.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { ALL_FIXTURES, expected, importFixture, nhwcInput, PRUNABLE_FIXTURES, relativeError } from './fixtures.ts';

beforeAll(() => initBackend('wasm'));

describe('imported networks against PyTorch', () => {
  it.each(ALL_FIXTURES)('%s: eval-mode outputs within 1e-4 relative', async (name) => {
    const { graph } = importFixture(name);
    const e = expected(name);
    for (let k = 0; k < e.inputs.length; k++) {
      const [logits] = await interpret(graph, nhwcInput(e, k));
      expect(relativeError(logits, e.full[k])).toBeLessThan(1e-4);
    }
  });

  it('a batch of two runs as two single samples', async () => {
    const { graph } = importFixture('densenet');
    const e = expected('densenet');
    const batch = new Float32Array([...nhwcInput(e, 0), ...nhwcInput(e, 1)]);
    const [logits] = await interpret(graph, batch);
    expect(relativeError(logits, [...e.full[0], ...e.full[1]])).toBeLessThan(1e-4);
  });
});

describe('Network Slimming at ratio 0.5 on imported networks', () => {
  it.each(PRUNABLE_FIXTURES)(
    '%s: the official rule keeps the channels PyTorch kept; masked and compact graphs give the masked outputs',
    async (name) => {
      const { graph } = importFixture(name);
      const e = expected(name);
      const { masks, masked, compact } = slimGraph(graph, { ratio: e.ratio });
      const kept = Object.fromEntries(Object.entries(masks).map(([bn, keep]) => [bn, keptCount(keep)]));
      expect(kept).toEqual(e.kept_channels);
      const maskedOutputs = e.masked ?? [];
      expect(maskedOutputs.length).toBe(e.inputs.length);
      for (let k = 0; k < e.inputs.length; k++) {
        const x = nhwcInput(e, k);
        const [fromMasked] = await interpret(masked, x);
        const [fromCompact] = await interpret(compact, x);
        expect(relativeError(fromMasked, maskedOutputs[k])).toBeLessThan(1e-4);
        expect(relativeError(fromCompact, maskedOutputs[k])).toBeLessThan(1e-4);
        // The masked network is a different function: the comparison could fail.
        expect(relativeError(fromCompact, e.full[k])).toBeGreaterThan(1e-3);
      }
    },
  );
});
