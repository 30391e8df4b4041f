// The fuzzer's model.d.ts check (scripts/fuzz/declarations.ts) must fail a broken declaration
// file, also after it has checked others in the same process (it keeps the parsed libraries).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declarationProblems } from '../scripts/fuzz/declarations.ts';
import { scratchDir } from './codegen/emitted.ts';

const declarations = (fields: string) =>
  [
    "import type { Tensor } from '@tensorflow/tfjs-core';",
    'export interface Model {',
    `  predict(x: Float32Array | Tensor): Promise<{ ${fields} }>;`,
    '  dispose(): void;',
    '}',
    'export declare function load(): Promise<Model>;',
    '',
  ].join('\n');

let root: string;
beforeAll(async () => {
  root = await scratchDir('declarations');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the model.d.ts check of the fuzzer', () => {
  it('passes a valid file and names the line of a broken one, every time', async () => {
    for (const round of [1, 2]) {
      const good = join(root, `good-${round}`);
      const bad = join(root, `bad-${round}`);
      await mkdir(good);
      await mkdir(bad);
      await writeFile(join(good, 'model.d.ts'), declarations('"a": Float32Array; "b": Float32Array'));
      await writeFile(join(bad, 'model.d.ts'), declarations('"a": Float32Array; b */: Float32Array'));
      expect(await declarationProblems(good, { inputs: ['x'], outputs: ['a', 'b'] })).toEqual([]);
      const problems = await declarationProblems(bad, { inputs: ['x'], outputs: ['a', 'b'] });
      expect(problems.length, `round ${round}`).toBeGreaterThan(0);
      expect(problems[0]).toMatch(/^model\.d\.ts:3: TS\d+/);
    }
  });
});
