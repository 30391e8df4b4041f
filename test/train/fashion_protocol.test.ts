// examples/fashion-mnist/run.ts with its tiny setting on IDX files made here (never the real
// dataset): stopped after a stage, resumed to the end, finished stages skipped, and the
// published files (results with compiled-module accuracies, plots, baseline and pruned models).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../examples/fashion-mnist/run.ts';
import { loadModel } from '../../src/cli/load_model.ts';
import { cost } from '../../src/ir/cost.ts';
import { graphInputs } from '../../src/ir/node.ts';
import { scratchDir } from '../codegen/emitted.ts';

/** An IDX file of unsigned bytes. */
function idx(dims: readonly number[], values: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => new DataView(header.buffer).setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(values, header.length);
  return out;
}

/** Images whose class is visible: a bright band whose row is the label. */
function split(n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * 784);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  labels.forEach((label, i) => {
    for (let x = 0; x < 28; x++) images[i * 784 + (2 + 2 * label) * 28 + x] = 200 + ((i * 7 + x) % 50);
  });
  return { images, labels };
}

let dir: string;
let data: string;
beforeAll(async () => {
  // Inside the repository, so that the compiled modules resolve the tfjs packages.
  dir = await scratchDir('fashion-protocol');
  data = join(dir, 'idx');
  await mkdir(data);
  for (const [name, n] of [
    ['train', 96],
    ['t10k', 40],
  ] as const) {
    const s = split(n);
    await writeFile(join(data, `${name}-images-idx3-ubyte.gz`), gzipSync(idx([n, 28, 28], s.images)));
    await writeFile(join(data, `${name}-labels-idx1-ubyte`), idx([n], s.labels));
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('examples/fashion-mnist/run.ts --tiny', () => {
  it('stops after a stage, resumes to the end, and publishes compiled-module results and both models', async () => {
    const out = join(dir, 'out');
    const publish = join(dir, 'publish');
    const common = ['--tiny', '--data', `idx:${data}`, '--out', out, '--publish', publish, '--lambdas', '1e-3', '--prune-lambda', '1e-3'];
    const first: string[] = [];
    expect(await main({ argv: [...common, '--until', 'sparsity-0.001'], log: (l) => first.push(l) })).toBe('stopped');
    expect(existsSync(join(out, 'sparsity-0.001', 'stage.json'))).toBe(true);
    expect(existsSync(join(out, 'prune-50'))).toBe(false);
    // Without --resume a directory holding stages is refused.
    await expect(main({ argv: common, log: () => undefined })).rejects.toThrow(/already holds stages of a run: continue it with --resume/);

    const second: string[] = [];
    expect(await main({ argv: [...common, '--resume'], log: (l) => second.push(l) })).toBe('complete');
    expect(second.some((l) => /^baseline: done earlier/.test(l))).toBe(true);
    expect(second.some((l) => /^baseline: starting/.test(l))).toBe(false);

    const results = JSON.parse(await readFile(join(publish, 'results.json'), 'utf8')) as {
      testImages: number;
      stages: { stage: string; accuracy: number; params: number; macs: number; seconds: number; prunedAccuracy?: number }[];
      pruned: { stage: string; paramsFraction: number };
    };
    expect(results.testImages).toBe(40);
    expect(results.stages.map((s) => s.stage)).toEqual([
      'baseline',
      'sparsity-0.001',
      'prune-50',
      'prune-70',
      'pass2-sparsity',
      'pass2-prune',
    ]);
    const byStage = Object.fromEntries(results.stages.map((s) => [s.stage, s]));
    for (const s of results.stages) {
      // Accuracies are counts of 40 images: whole multiples of 1/40.
      expect(Math.abs(s.accuracy * 40 - Math.round(s.accuracy * 40)), s.stage).toBeLessThan(1e-9);
      expect(s.seconds).toBeGreaterThan(0);
    }
    expect(byStage['prune-70'].params).toBeLessThan(byStage['prune-50'].params);
    expect(byStage['pass2-prune'].params).toBeLessThan(byStage['prune-50'].params);
    expect(byStage['prune-50'].prunedAccuracy).toBeDefined();

    // The published models are the baseline and the chosen pruned stage, with their weights.
    const baseline = await loadModel(join(publish, 'baseline.slim'));
    const pruned = await loadModel(join(publish, 'pruned.slim'));
    expect(cost(baseline).params).toBe(byStage.baseline.params);
    expect(cost(pruned).params).toBe(byStage[results.pruned.stage].params);
    expect(results.pruned.paramsFraction).toBeCloseTo(cost(pruned).params / cost(baseline).params, 9);
    for (const file of ['results.md', 'gamma.svg', 'kept-prune-50.svg', 'kept-prune-70.svg', 'kept-pass2-prune.svg']) {
      expect(existsSync(join(publish, file)), file).toBe(true);
    }
    expect(await readFile(join(publish, 'results.md'), 'utf8')).toMatch(/\| prune-70 \| .* \| \d+\.\d\d% \|/);
  }, 600_000);

  it('--only runs some stages (two processes can share a run), and says which stage a skipped one needs', async () => {
    const out = join(dir, 'only');
    const common = ['--tiny', '--data', `idx:${data}`, '--out', out, '--lambdas', '1e-3', '--prune-lambda', '1e-3', '--resume'];
    await expect(main({ argv: [...common, '--only', 'pass2-sparsity'], log: () => undefined })).rejects.toThrow(
      "needs stage 'prune-50' finished first",
    );
    await expect(main({ argv: [...common, '--only', 'prune-90'], log: () => undefined })).rejects.toThrow("no stage 'prune-90'");
    const lines: string[] = [];
    expect(await main({ argv: [...common, '--only', 'sparsity-0.001'], log: (l) => lines.push(l) })).toBe('stopped');
    expect(existsSync(join(out, 'sparsity-0.001', 'stage.json'))).toBe(true);
    expect(existsSync(join(out, 'baseline'))).toBe(false);
    // Without the baseline, the table prints no size ratios (and does not fail).
    expect(lines.some((l) => /^\| sparsity-0\.001 \|.*\| 77,786 \|/m.test(l))).toBe(true);
  }, 600_000);
});

describe('the committed Fashion-MNIST run (examples/fashion-mnist)', () => {
  it("publishes models that are what results.json says, the pruned one within the issue's bar", async () => {
    const dir = fileURLToPath(new URL('../../examples/fashion-mnist/', import.meta.url));
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as {
      stages: { stage: string; params: number; accuracy: number }[];
      pruned: { stage: string; paramsFraction: number; accuracyDrop: number; meetsTarget: boolean };
    };
    const byStage = Object.fromEntries(results.stages.map((s) => [s.stage, s]));
    const [baseline, pruned] = [await loadModel(join(dir, 'baseline.slim')), await loadModel(join(dir, 'pruned.slim'))];
    for (const m of [baseline, pruned]) expect(graphInputs(m).map((i) => i.type.shape.slice(1))).toEqual([[28, 28, 1]]);
    expect(cost(baseline).params).toBe(byStage.baseline.params);
    expect(cost(pruned).params).toBe(byStage[results.pruned.stage].params);
    // At most a third of the baseline's params, within 0.5 points of its compiled-module accuracy.
    expect(cost(pruned).params / cost(baseline).params).toBeLessThanOrEqual(1 / 3);
    expect(byStage.baseline.accuracy - byStage[results.pruned.stage].accuracy).toBeLessThanOrEqual(0.005);
    expect(results.pruned.meetsTarget).toBe(true);
  });
});
