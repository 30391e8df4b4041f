// Regenerates the codegen baselines (the model-specific part of model.js, and model.d.ts, of each graph in
// test/codegen/golden_graphs.ts, lowered and emitted). Tests never write them; run this after an
// intended change of the emitted code and review the diff:
//   node --import tsx test/golden/codegen/update.ts
import { writeFile } from 'node:fs/promises';
import { compileGraph } from '../../../src/compiler/compile.ts';
import { GOLDEN_GRAPHS } from '../../codegen/golden_graphs.ts';

for (const [name, make] of Object.entries(GOLDEN_GRAPHS)) {
  const { module } = compileGraph(make());
  await writeFile(new URL(`./${name}.model.js`, import.meta.url), `${module.modelSource}\n`);
  await writeFile(new URL(`./${name}.model.d.ts`, import.meta.url), module.dts);
  process.stdout.write(`wrote test/golden/codegen/${name}.model.js and .model.d.ts\n`);
}
