// Threads in Node: the emitted module started with `threads: 2` runs the threaded-SIMD build on
// two threads (past the backend's cap of half the logical cores), predicts what the plain SIMD
// build predicts, and lets the process exit by itself. Each run is a fresh process: the wasm
// backend starts once per process.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutputs } from '../helpers/compare.ts';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { HOST_RELAXED_SIMD } from '../../scripts/relaxed_simd.ts';
import { runChild, type ChildPrediction } from './model_child.ts';
import { SMALL_NETS } from './nets.ts';

describe('threads in Node', () => {
  let out: CompiledDir;
  beforeAll(async () => {
    out = await compileToScratch(SMALL_NETS.vgg(), { slim: { ratio: 0.4 } });
  });
  afterAll(async () => {
    await out?.cleanup();
  });

  it('threads: 2 runs the threaded build on 2 threads, equals plain SIMD, and the process exits', async () => {
    const url = pathToFileURL(join(out.dir, 'model.js')).href;
    const runs = [
      await runChild(url, { threads: 1 }),
      await runChild(url, { threads: 2 }),
      await runChild(url, { threads: 2, convolutions: 'slimc' }),
    ];
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [a, b, c] = runs.map((run) => JSON.parse(run.stdout) as ChildPrediction);
    // The plan runs on all, its channel copies in wasm too (the shared-memory build of copy_runs);
    // its convs on slimc's kernels on one thread, on XNNPACK's with threads unless asked (the
    // shared-memory build of narrow_conv).
    expect(a.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: HOST_RELAXED_SIMD });
    expect(b.runtime).toEqual({ name: 'plan', convolutions: 'xnnpack', winograd: false, fma: false });
    expect(c.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: HOST_RELAXED_SIMD });
    expect(a.backend).toEqual({ name: 'wasm', variant: 'wasm-simd', simd: true, threads: 1 });
    for (const run of [b, c]) expect(run.backend).toEqual({ name: 'wasm', variant: 'wasm-threaded-simd', simd: true, threads: 2 });
    for (const run of [b, c]) {
      const compared = compareOutputs(Float32Array.from(a.y), Float32Array.from(run.y));
      expect(compared.ok, `max |threaded - plain| = ${compared.maxAbsDiff}`).toBe(true);
    }
  });
});
