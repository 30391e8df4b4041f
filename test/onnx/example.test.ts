// examples/onnx: an ONNX model through `slimc prune`, `slimc compile --prune` and
// `slimc export --prune`; the compiled module and the exported ONNX, both fed NCHW as PyTorch
// was, give the outputs PyTorch computed for the masked network.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runExample } from '../../examples/onnx/prune_and_compile.ts';
import { scratchDir } from '../codegen/emitted.ts';
import { fixturePath } from './fixtures.ts';

let dir: string;
beforeAll(async () => {
  // Inside the repository, so that the emitted model.js resolves the tfjs packages from its node_modules.
  dir = await scratchDir('onnx-example');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('examples/onnx/prune_and_compile.ts', () => {
  it.each(['mobilenet', 'selectresnet'] as const)(
    '%s: prune, compile and export at 0.5 agree with PyTorch on the masked network',
    async (name) => {
      const lines: string[] = [];
      // The CLI's own reports go to stdout; the example's lines are collected.
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      let result;
      try {
        result = await runExample(fixturePath(name), 0.5, join(dir, name), (line) => lines.push(line));
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
      expect(lines.filter((l) => l.startsWith('$ slimc ')).map((l) => l.split(' ')[2])).toEqual(['prune', 'compile', 'export']);
      expect(existsSync(result.files.pruned)).toBe(true);
      expect(existsSync(join(result.files.compiled, 'model.js'))).toBe(true);
      expect(existsSync(result.files.exported)).toBe(true);
      expect(result.relativeError?.module).toBeLessThan(1e-4);
      expect(result.relativeError?.onnxRuntime).toBeLessThan(1e-4);
    },
  );
});
