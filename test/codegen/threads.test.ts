// Threads in Node: the emitted module started with `threads: 2` runs the threaded-SIMD build on
// two threads (past the backend's cap of half the logical cores), predicts what the plain SIMD
// build predicts, and lets the process exit by itself. Each run is a fresh process: the wasm
// backend starts once per process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareOutputs } from '../helpers/compare.ts';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';

const CHILD = `
const { load } = await import(process.env.SLIMC_MODEL);
const model = await load({ threads: Number(process.env.SLIMC_THREADS), convolutions: process.env.SLIMC_CONVOLUTIONS || undefined });
const x = Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.sin(i));
const y = await model.predict(x);
process.stdout.write(JSON.stringify({ backend: model.info.backend, runtime: model.info.runtime, y: Array.from(y) }));
`;

interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly milliseconds: number;
}

/** Runs the child script on the compiled model; it must exit on its own within the timeout. */
function runChild(modelUrl: string, threads: number, convolutions = '', timeoutMs = 60_000): Promise<ChildResult> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, SLIMC_MODEL: modelUrl, SLIMC_THREADS: String(threads), SLIMC_CONVOLUTIONS: convolutions },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit within ${timeoutMs} ms (threads ${threads}); stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, milliseconds: performance.now() - start });
    });
  });
}

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
    const runs = [await runChild(url, 1), await runChild(url, 2), await runChild(url, 2, 'slimc')];
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [a, b, c] = runs.map((run) => JSON.parse(run.stdout) as { backend: object; runtime: object; y: number[] });
    // The plan runs on all, its channel copies in wasm too (the shared-memory build of copy_runs);
    // its convs on slimc's kernels on one thread, on XNNPACK's with threads unless asked (the
    // shared-memory build of narrow_conv).
    expect(a.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true });
    expect(b.runtime).toEqual({ name: 'plan', convolutions: 'xnnpack', winograd: false });
    expect(c.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true });
    expect(a.backend).toEqual({ name: 'wasm', variant: 'wasm-simd', simd: true, threads: 1 });
    for (const run of [b, c]) expect(run.backend).toEqual({ name: 'wasm', variant: 'wasm-threaded-simd', simd: true, threads: 2 });
    for (const run of [b, c]) {
      const compared = compareOutputs(Float32Array.from(a.y), Float32Array.from(run.y));
      expect(compared.ok, `max |threaded - plain| = ${compared.maxAbsDiff}`).toBe(true);
    }
  });
});
