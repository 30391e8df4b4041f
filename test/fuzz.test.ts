// The fuzzer (scripts/fuzz) on a few cases of every family, as CI runs it: mutated .slim texts,
// weights files and ONNX files, and models whose every name is built to break out of emitted code,
// through `slimc inspect` and `slimc compile` in worker processes. People run 10,000 cases with
// `npm run fuzz -- --cases 10000`.
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../scripts/fuzz/cases.ts';
import { mutateWeights } from '../scripts/fuzz/mutate.ts';
import { fuzz, tallyText } from '../scripts/fuzz/run.ts';
import { WEIGHTS_MAGIC } from '../src/ir/weights_file.ts';
import { Rng } from '../src/util/random.ts';

describe('the fuzzer', () => {
  it('finds no internal error, crash, hang, injection or invalid model.d.ts', async () => {
    const report = await fuzz({ cases: 20, seed: 7, start: 0, jobs: 2, timeoutSeconds: 120, keep: null, casesPerWorker: 50 });
    const text = tallyText(report);
    expect(report.failures, text).toEqual([]);
    for (const family of FAMILIES) expect(report.tally[family].cases, text).toBe(4);
    // Hostile names are valid names: those models compile (and their check imports the module).
    expect(report.tally['hostile-names'].compile['exit 0'] ?? 0, text).toBeGreaterThan(0);
    expect(report.tally['onnx-file-name'].compile['exit 0'] ?? 0, text).toBeGreaterThan(0);
  }, 600_000); // About 40 s on an idle 2-core machine; each case has its own time limit inside.

  it('mutates a weights file cut short inside its header without failing itself', () => {
    const rng = new Rng(3);
    const cut = new TextEncoder().encode(`${WEIGHTS_MAGIC}\u0001\u0000`);
    for (let i = 0; i < 200; i++) expect(() => mutateWeights(cut, rng)).not.toThrow();
  });
});
