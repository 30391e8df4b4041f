// `slimc compile` end to end, in real subprocesses writing to a directory outside the project
// (so model.js finds tfjs only through slimc): files, report, the check, refusing to overwrite,
// printing the IR; and the check itself failing on a module that computes something else.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCompiledModule } from '../../src/codegen/check.ts';
import { compileGraph, compilePassNames } from '../../src/compiler/compile.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { compileToScratch } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';
import { runSlimc } from '../helpers/cli.ts';

const MODEL = new URL('../fixtures/models/sparse_resnet20.ts', import.meta.url).pathname;
const FILES = ['model.d.ts', 'model.js', 'model.slim', 'model.weights.bin', 'package.json', 'report.html', 'report.json'];

describe('slimc compile', () => {
  const root = mkdtempSync(join(tmpdir(), 'slimc-compile-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('--prune writes the module, its weights, IR and report, and checks it against the masked original', async () => {
    // Missing parent directories are created, as by mkdir -p.
    const out = join(root, 'nested', 'pruned');
    const r = await runSlimc('compile', MODEL, '--prune', '0.5', '--out', out, '--json', '--bench');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^slimc: checking the module against the interpreter$/m);
    const report = JSON.parse(r.stdout);
    // --bench: the module and the unpruned one, timed in this process.
    expect(report.latency).toMatchObject({ runs: 200, warmup: 20, backend: { variant: 'wasm-simd', threads: 1 } });
    expect(report.latency.speedup).toBeCloseTo(report.latency.unprunedMs / report.latency.moduleMs, 10);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('latency, median predict, batch 1');
    expect(readdirSync(out).sort()).toEqual(FILES);
    expect(report.after.macs).toBeLessThan(report.before.macs);
    expect(report.after.flops).toBe(2 * report.after.macs);
    expect(report.channels.find((c: { name: string }) => c.name === 'bn1')).toMatchObject({ before: 16 });
    expect(report.channels.some((c: { before: number; after: number }) => c.after < c.before)).toBe(true);
    expect(report.check).toMatchObject({ ok: true, batch: 2, seed: 1 });
    // The plan's arena for one sample: at least the input's floats.
    expect(report.peakActivationBytes).toBeGreaterThanOrEqual(4 * 32 * 32 * 3);
    // Folding channel selections into convs ships at most 5% more weights than keeping them.
    expect(report.weightFloats.shipped).toBeLessThanOrEqual(1.05 * report.weightFloats.unfolded);
    expect(report.weightFloats.shipped).toBe(report.emitted.params);
    expect(report.check.maxAbsDiff).toBeLessThanOrEqual(report.check.tolerance);
    expect(report.check.tolerance).toBe(1e-4 * Math.max(1, report.check.maxAbsReference));
    expect(report.files.map((f: { name: string }) => f.name).sort()).toEqual(FILES.filter((f) => f !== 'report.json'));
    expect(report.written).toBe(true);
    const { source: _source, dir: _dir, written: _written, ...written } = report;
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(written);
    // The final IR and the weights file load back as a model with the figures of the report.
    const inspected = await runSlimc('inspect', join(out, 'model.slim'), '--json');
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout).macs).toBe(report.emitted.macs);
  });

  it('without --prune compiles the model as it is, and prints a summary', async () => {
    const out = join(root, 'as-is');
    const r = await runSlimc('compile', MODEL, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/check: max \|module - interpreter\| = \S+ \(tolerance \S+, batch 2, seed 1\): ok/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.after).toEqual(report.before);
    expect(report.ratio).toBeNull();
    expect(report.channels.every((c: { before: number; after: number }) => c.after === c.before)).toBe(true);
  });

  it('refuses an existing directory that is not its own output unless --force, and replaces its own', async () => {
    const out = join(root, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const refused = await runSlimc('compile', MODEL, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/occupied: exists and is not a previous slimc compile output .* use --force/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
    const forced = await runSlimc('compile', MODEL, '--out', out, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(FILES);
    const again = await runSlimc('compile', MODEL, '--prune', '0.3', '--out', out);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).ratio).toBe(0.3);
    // Nothing is left behind beside it (the temporary directory was renamed).
    expect(readdirSync(root).filter((f) => f.includes('slimc-'))).toEqual([]);
  });

  it('prints the IR after a pass, diffs, and names the passes when given an unknown one', async () => {
    const printed = await runSlimc('compile', MODEL, '--prune', '0.5', '--out', join(root, 'printed'), '--print-after', 'fold-batch-norm');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^\/\/ ----- IR after fold-batch-norm -----$/m);
    const diffed = await runSlimc('compile', MODEL, '--out', join(root, 'diffed'), '--diff', '--json');
    expect(diffed.code, diffed.stderr).toBe(0);
    expect(diffed.stderr).toMatch(/^\+\+\+ after fuse-activations$/m);
    JSON.parse(diffed.stdout);
    const unknown = await runSlimc('compile', MODEL, '--out', join(root, 'never'), '--print-after', 'fold-bn');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `unknown pass "fold-bn"; the passes of this compile are: ${compilePassNames(false).join(', ')} (or "all")`,
    );
    expect(compilePassNames(false)).toContain('fold-batch-norm');
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});

describe('--print-after all', () => {
  it('prints the IR once at every point of a pruning compile, the input first', () => {
    const graph = withSparsityLikeWeights(SMALL_NETS['resnet-postact'](), { seed: 3 });
    const printed: string[] = [];
    compileGraph(graph, { slim: { ratio: 0.5 }, printAfter: 'all', emit: (text) => printed.push(text) });
    const headers = printed.join('').match(/^\/\/ ----- IR (?:at|after) \S+ -----$/gm) ?? [];
    expect(headers).toEqual(compilePassNames(true).map((name, i) => `// ----- IR ${i === 0 ? 'at' : 'after'} ${name} -----`));
  });
});

describe('the check', () => {
  it('fails when the module computes something other than the reference', async () => {
    const graph = SMALL_NETS['resnet-postact']();
    const out = await compileToScratch(graph);
    try {
      expect((await checkCompiledModule(out.dir, graph)).ok).toBe(true);
      const other = withSparsityLikeWeights(graph, { seed: 99 });
      const check = await checkCompiledModule(out.dir, other, { batch: 1, seed: 4 });
      expect(check.ok).toBe(false);
      expect(check.maxAbsDiff).toBeGreaterThan(check.tolerance);
    } finally {
      await out.cleanup();
    }
  });
});
