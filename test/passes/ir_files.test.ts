// Runs every IR-file pass test in test/passes/ir/ (format: test/helpers/pass_file.ts): the IR
// after the file's pipeline must print exactly as its CHECK lines. The files are regenerated on
// purpose only, by `node --import tsx scripts/update_pass_tests.ts`; review the diff.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PASS_NAMES } from '../../src/compiler/opt.ts';
import { readPassFile, runPassFile } from '../helpers/pass_file.ts';

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
});

describe('IR-file pass tests', () => {
  it('test every pass at least once', async () => {
    const tested = new Set<string>();
    for (const file of files) for (const pass of (await readPassFile(dir + file)).passes) tested.add(pass);
    expect(PASS_NAMES.filter((p) => !tested.has(p))).toEqual([]);
  });
});
