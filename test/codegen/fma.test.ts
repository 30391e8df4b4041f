// Fused multiply-adds: where the host has relaxed SIMD, slimc's conv kernels run a build of
// narrow_conv.wasm whose multiply-adds are f32x4.relaxed_madd (the runtime rewrites the plain
// build's bytes, fmaBuild). The rewrite touches exactly the kernels' multiply-adds; modules run on
// it (Node with relaxed SIMD enabled, one thread and two) predict what the plain build predicts,
// within float32 tolerance and not bit for bit (so the fused build did run); load({ fma: false })
// keeps the plain build; a host without relaxed SIMD runs the plain one and says so.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { plainBuildOf } from '../../scripts/build_runtime_kernels.ts';
import { HOST_RELAXED_SIMD, RELAXED_SIMD_FLAGS } from '../../scripts/relaxed_simd.ts';
import { fmaBuild } from '../../src/codegen/runtime/model_runtime.js';
import { conv2d, model, relu } from '../../src/frontends/dsl.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { compileToScratch, type CompiledDir } from './emitted.ts';
import { runChild, type ChildPrediction } from './model_child.ts';
import { SMALL_NETS } from './nets.ts';

describe('fmaBuild', () => {
  it("rewrites each of narrow_conv's multiply-adds into a relaxed_madd, and no other byte", async () => {
    const wat = await readFile(new URL('../../src/codegen/runtime/narrow_conv.wat', import.meta.url), 'utf8');
    const multiplyAdds = wat.split('(f32x4.add (f32x4.mul ').length - 1;
    expect(multiplyAdds).toBeGreaterThan(0);
    const plain = await plainBuildOf('narrow_conv');
    const fused = fmaBuild(plain);
    expect(fused).not.toBeNull();
    const bytes = fused as Uint8Array;
    expect(bytes.length).toBe(plain.length);
    // Each site: mul, get X, add (8 bytes) -> get X, relaxed_madd, 3 nops.
    let sites = 0;
    for (let i = 0; i < plain.length; i++) {
      if (bytes[i] === plain[i]) continue;
      expect([...bytes.subarray(i, i + 8)]).toEqual([0x20, plain[i + 4], 0xfd, 0x85, 0x02, 0x01, 0x01, 0x01]);
      expect([...plain.subarray(i, i + 8)]).toEqual([0xfd, 0xe6, 0x01, 0x20, plain[i + 4], 0xfd, 0xe4, 0x01]);
      sites++;
      i += 7;
    }
    expect(sites).toBe(multiplyAdds);
  });

  it('gives null for a module without multiply-adds', async () => {
    const wabt = await wabtInit();
    const module = wabt.parseWat('add.wat', '(module (func (param v128 v128) (result v128) (f32x4.add (local.get 0) (local.get 1))))', {
      simd: true,
    });
    try {
      expect(fmaBuild(Uint8Array.from(module.toBinary({}).buffer))).toBeNull();
    } finally {
      module.destroy();
    }
  });
});

describe('a module on the fused build', () => {
  const outs: Record<string, CompiledDir> = {};
  beforeAll(async () => {
    // VGG-shaped at 0.4: slimc's direct convs; DenseNet-shaped: its Winograd products on slimc's
    // kernels too; pre-activation ResNet at 0.4: its 1x1 convs from few channels to many, which
    // slimc's kernels take only on the fused build.
    outs.vgg = await compileToScratch(SMALL_NETS.vgg(), { slim: { ratio: 0.4 } });
    outs.densenet = await compileToScratch(SMALL_NETS.densenet(), {});
    outs.resnet = await compileToScratch(SMALL_NETS['resnet-preact'](), { slim: { ratio: 0.4 } });
    // Winograd convs to 33 and 64 channels: their products run on slimc's kernels only on the fused build.
    const wide = model('winograd-wide', { input: [7, 9, 35] }, (x) =>
      conv2d(relu(conv2d(x, 33, { bias: true, name: 'same' })), 64, { padding: 'valid', name: 'valid' }),
    );
    outs.winograd = await compileToScratch(withSparsityLikeWeights(wide), {});
  });
  afterAll(async () => {
    for (const out of Object.values(outs)) await out.cleanup();
  });

  it.each(['vgg', 'densenet', 'resnet', 'winograd'])('%s: predicts what the plain build predicts, on one thread and two', async (name) => {
    const url = pathToFileURL(join(outs[name].dir, 'model.js')).href;
    const runs = [
      await runChild(url, { fma: false }, RELAXED_SIMD_FLAGS),
      await runChild(url, {}, RELAXED_SIMD_FLAGS),
      await runChild(url, { threads: 2, convolutions: 'slimc' }, RELAXED_SIMD_FLAGS),
      await runChild(url, {}),
    ];
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const [plain, fused, fusedThreads, host] = runs.map((run) => JSON.parse(run.stdout) as ChildPrediction);
    expect(plain.runtime.fma).toBe(false);
    expect(fused.runtime.fma).toBe(true);
    expect(fusedThreads.runtime.fma).toBe(true);
    expect(host.runtime.fma).toBe(HOST_RELAXED_SIMD);
    for (const run of [fused, fusedThreads]) {
      const c = compareOutputs(Float32Array.from(plain.y), Float32Array.from(run.y));
      expect(c.ok, `max |fused - plain| = ${c.maxAbsDiff}`).toBe(true);
      // One rounding per multiply-add instead of two: the last bits differ somewhere.
      expect(c.maxAbsDiff).toBeGreaterThan(0);
    }
  });
});
