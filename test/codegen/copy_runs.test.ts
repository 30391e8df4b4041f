// copy_runs.wasm, the plan's channel gathers and concats: the bytes model_runtime.js carries are
// those copy_runs.wat assembles to, and the kernel copies exactly what a plain JS loop does, for
// runs of every length class (one float, two, odd, 8-byte words, memory.copy) and many pixels.
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assembleCopyRuns, runtimeWith } from '../../scripts/build_copy_runs.ts';

const RUNTIME = new URL('../../src/codegen/runtime/model_runtime.js', import.meta.url);

type CopyRuns = (src: number, srcStride: number, dst: number, dstStride: number, pixels: number, runs: number, runsEnd: number) => void;

describe('copy_runs.wasm', () => {
  it('is what copy_runs.wat assembles to, in both builds', async () => {
    const runtime = await readFile(RUNTIME, 'utf8');
    expect(runtimeWith(runtime, await assembleCopyRuns()), 'run node --import tsx scripts/build_copy_runs.ts').toBe(runtime);
  });

  it('copies every run of every pixel as a JS loop does, and nothing else', async () => {
    const { plain } = await assembleCopyRuns();
    const memory = new WebAssembly.Memory({ initial: 8 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(plain, 'base64')), { env: { memory } });
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
