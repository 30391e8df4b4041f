// torchvision's modern mobile networks (ShuffleNetV2, EfficientNet, MobileNetV3 at a small width
// and depth, exported by scripts/make_onnx_fixtures.py) compiled to modules: unpruned, the module
// gives PyTorch's outputs; pruned at 0.5, it gives PyTorch's masked network's outputs. The module
// takes NCHW inputs, as PyTorch does, and runs its static plan.
import { afterAll, describe, expect, it } from 'vitest';
import { compileToScratch, type CompiledDir } from '../codegen/emitted.ts';
import { expected, importFixture, relativeError } from './fixtures.ts';

const MODERN_FIXTURES = ['shufflenetv2', 'efficientnet', 'mobilenetv3'] as const;
const TOLERANCE = 5e-4;

const compiled: CompiledDir[] = [];
afterAll(async () => {
  for (const c of compiled) await c.cleanup();
});

describe('modern networks from PyTorch, compiled', () => {
  it.each(MODERN_FIXTURES.flatMap((name) => [[name, 'unpruned'] as const, [name, 'pruned at 0.5'] as const]))(
    '%s, %s: the module gives PyTorch outputs',
    async (name, how) => {
      const e = expected(name);
      const pruned = how !== 'unpruned';
      const c = await compileToScratch(importFixture(name).graph, pruned ? { slim: { ratio: e.ratio } } : {});
      compiled.push(c);
      const model = await c.exports.load();
      try {
        expect(model.info.runtime.name).toBe('plan');
        const reference = pruned ? (e.masked ?? []) : e.full;
        expect(reference).toHaveLength(e.inputs.length);
        for (let k = 0; k < e.inputs.length; k++) {
          const out = (await model.predict(Float32Array.from(e.inputs[k]))) as Float32Array;
          expect(relativeError(out, reference[k])).toBeLessThan(TOLERANCE);
          // The masked network is another function: the comparison could fail.
          if (pruned) expect(relativeError(out, e.full[k])).toBeGreaterThan(1e-3);
        }
      } finally {
        model.dispose();
      }
    },
  );
});
