// After a wasm trap the heap may be corrupt: the module must never return numbers from it again.
// This file poisons the backend of its own test process (vitest runs each file apart), so it
// stands alone. The trap is provoked by replacing one kernel export with one that traps.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';

interface WasmModule {
  asm: Record<string, (...args: number[]) => number>;
}

describe('a wasm trap', () => {
  let out: CompiledDir;
  beforeAll(async () => {
    out = await compileToScratch(SMALL_NETS.vgg());
  });
  afterAll(async () => out?.cleanup());

  it('makes this and every other model on the backend refuse to run from then on, saying why', async () => {
    // XNNPACK's convs: the trap is provoked in the backend's FusedConv2D export.
    const m = await out.exports.load({ convolutions: 'xnnpack' });
    const other = await out.exports.load({ runtime: 'engine' });
    const x = new Float32Array(16 * 16 * 3).fill(0.5);
    expect(await m.predict(x)).toHaveLength(10);
    const wasm = (tf.engine().findBackend('wasm') as unknown as { wasm: WasmModule }).wasm;
    // The exports object is frozen; the module's reference to it is not.
    const exports = wasm.asm;
    wasm.asm = {
      ...exports,
      FusedConv2D: () => {
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      },
    };
    try {
      // Batch 2 builds a new plan, which picks up the trapping export.
      const twice = new Float32Array(2 * 16 * 16 * 3);
      await expect(m.predict(twice)).rejects.toThrow(out.exports.SlimcModelError);
      await expect(m.predict(twice)).rejects.toThrow(
        /the wasm backend is unusable since an earlier failure \(memory access out of bounds\)/,
      );
    } finally {
      wasm.asm = exports;
    }
    // Even with the export restored and for a batch whose plan is intact: the heap is suspect.
    await expect(m.predict(x)).rejects.toThrow(/unusable since an earlier failure/);
    await expect(other.predict(x)).rejects.toThrow(/unusable since an earlier failure/);
    m.dispose();
    other.dispose();
  });
});
