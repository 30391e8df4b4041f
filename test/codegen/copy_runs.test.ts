// copy_runs.wasm, the plan's channel gathers and concats: the bytes model_runtime.js carries are
// those copy_runs.wat assembles to, and the kernel copies exactly what a plain JS loop does, for
// runs of every length class (one float, two, odd, 8-byte words, memory.copy) and many pixels.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleWat } from '../../scripts/assemble_wat.ts';
import { narrowConvWat } from '../../scripts/narrow_conv_wat.ts';
import { assembleRuntimeKernels, plainBuildOf, runtimeWith } from '../../scripts/build_runtime_kernels.ts';
import { sharedMemoryBuild } from '../../src/codegen/runtime/model_runtime.js';

const RUNTIME = new URL('../../src/codegen/runtime/model_runtime.js', import.meta.url);

type CopyRuns = (src: number, srcStride: number, dst: number, dstStride: number, pixels: number, runs: number, runsEnd: number) => void;

describe('copy_runs.wasm', () => {
  it('is what copy_runs.wat assembles to (and narrow_conv.wasm what narrow_conv.wat does, that file what its generator writes)', async () => {
    const runtime = await readFile(RUNTIME, 'utf8');
    const hint = 'run node --import tsx scripts/build_runtime_kernels.ts';
    expect(await readFile(new URL('../../src/codegen/runtime/narrow_conv.wat', import.meta.url), 'utf8'), hint).toBe(narrowConvWat());
    expect(runtimeWith(runtime, await assembleRuntimeKernels()), hint).toBe(runtime);
  });

  it('the runtime makes each shared-memory build (threaded backends) from the plain one it ships, byte for byte', async () => {
    const training = await assembleWat(fileURLToPath(new URL('../../src/train/kernels/train_kernels.wat', import.meta.url)));
    for (const [name, built] of [...(await assembleRuntimeKernels()), ['train_kernels', training] as const]) {
      const made = sharedMemoryBuild(Uint8Array.from(Buffer.from(built.plain, 'base64')));
      expect(made && Buffer.from(made).toString('base64'), name).toBe(built.shared);
    }
    // Bytes without the one import it expects are refused, not guessed at.
    const copyRuns = (await assembleRuntimeKernels()).get('copy_runs');
    expect(sharedMemoryBuild(Uint8Array.from(Buffer.from(copyRuns?.shared ?? '', 'base64')))).toBeNull();
  });

  it('copies every run of every pixel as a JS loop does, and nothing else', async () => {
    const memory = new WebAssembly.Memory({ initial: 8 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(await plainBuildOf('copy_runs')), { env: { memory } });
    const copy = instance.exports.copy_runs as CopyRuns;
    const heap = new Float32Array(memory.buffer);
    const ints = new Int32Array(memory.buffer);
    const [src, dst, table] = [0, 40000, 80000]; // float offsets
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 69 }), fc.constantFrom(1, 2, 3, 5, 8, 31, 32, 33, 64)), { maxLength: 6 }),
        (channels, pixels, wanted) => {
          // Runs inside the source's channels, side by side in the destination.
          const runs: [number, number, number][] = [];
          let column = 0;
          for (const [first, length] of wanted) {
            const n = Math.min(length, channels - (first % channels));
            runs.push([first % channels, column, n]);
            column += n;
          }
          const outChannels = column + 1; // one column no run writes
          for (let i = 0; i < channels * pixels; i++) heap[src + i] = i + 0.5;
          heap.fill(-1, dst, dst + outChannels * pixels + 8);
          runs.forEach(([f, c, l], i) => ints.set([4 * f, 4 * c, 4 * l], table + 3 * i));
          copy(4 * src, 4 * channels, 4 * dst, 4 * outChannels, pixels, 4 * table, 4 * (table + 3 * runs.length));
          const expected = new Float32Array(outChannels * pixels + 8).fill(-1);
          for (let p = 0; p < pixels; p++) {
            for (const [f, c, l] of runs) for (let k = 0; k < l; k++) expected[p * outChannels + c + k] = heap[src + p * channels + f + k];
          }
          expect(heap.subarray(dst, dst + expected.length)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
