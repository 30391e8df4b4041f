// Runs every IR-file pass test in test/passes/ir/ (format: test/helpers/pass_file.ts): the IR
// after the file's pipeline must print exactly as its CHECK lines. The files are regenerated on
// purpose only, by `node --import tsx scripts/update_pass_tests.ts`; review the diff.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PASS_NAMES, runPasses } from '../../src/compiler/opt.ts';
import { interpret } from '../../src/interp/index.ts';
import { graphInputs } from '../../src/ir/node.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { inputGraph, parsePassFile, readPassFile, runPassFile } from '../helpers/pass_file.ts';

const dir = fileURLToPath(new URL('./ir/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.slim'))
  .sort();

describe.each(files)('%s', (file) => {
  it('prints the expected IR after its passes', async () => {
    const test = await readPassFile(dir + file);
    expect(test.expected, `${file} has no CHECK lines: run scripts/update_pass_tests.ts`).not.toBeNull();
    expect(runPassFile(test, file)).toBe(test.expected);
  });
  // Pruning (a PRUNE line) changes the function on purpose: the zoo tests check it against the masked graph.
  const prunes = parsePassFile(readFileSync(dir + file, 'utf8'), file).prune !== null;
  it.skipIf(prunes)('computes what its input computed (the interpreter on both, a random input)', async () => {
    const test = await readPassFile(dir + file);
    const before = inputGraph(test, file);
    const after = runPasses(before, test.passes, {});
    const rng = new Rng(file.length);
    const inputs = Object.fromEntries(
      graphInputs(before).map((v) => [
        v.id,
        rng.fill(
          v.type.shape.reduce((a, b) => a * b, 1),
          () => rng.normal(),
        ),
      ]),
    );
    const [expected, actual] = [await interpret(before, inputs), await interpret(after, inputs)];
    expected.forEach((out, i) => {
      const c = compareOutputs(out, actual[i]);
      expect(c.ok, `output ${i}: max diff ${c.maxAbsDiff} > ${c.tolerance}`).toBe(true);
    });
  });
});

describe('IR-file pass tests', () => {
  it('test every pass at least once', async () => {
    const tested = new Set<string>();
    for (const file of files) for (const pass of (await readPassFile(dir + file)).passes) tested.add(pass);
    expect(PASS_NAMES.filter((p) => !tested.has(p))).toEqual([]);
  });
});
