// Regenerates the expected IR (the CHECK lines) of the IR-file pass tests in test/passes/ir/.
// Tests never write them; run this after an intended change of a pass and review the diff:
//   node --import tsx scripts/update_pass_tests.ts [file.slim ...]
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readPassFile, runPassFile, withChecks } from '../test/helpers/pass_file.ts';

const dir = fileURLToPath(new URL('../test/passes/ir/', import.meta.url));
const named = process.argv.slice(2);
const files =
  named.length > 0
    ? named
    : readdirSync(dir)
        .filter((f) => f.endsWith('.slim'))
        .map((f) => dir + f);
for (const file of files) {
  const test = await readPassFile(file);
  await writeFile(file, withChecks(test, runPassFile(test, file)));
  process.stdout.write(`wrote ${file}\n`);
}
