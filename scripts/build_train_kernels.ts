// Assembles src/train/kernels/train_kernels.wat (assemble_wat.ts) and writes its plain-memory
// build as base64 into src/train/kernels/train_kernels_wasm.ts, which training loads: `slimc train`
// needs no assembler (the shared-memory build, for a threaded backend, is derived at run time as
// for the emitted runtime's kernels).
//
//   node --import tsx scripts/build_train_kernels.ts           # after editing train_kernels.wat
//   node --import tsx scripts/build_train_kernels.ts --check   # exit 1 if train_kernels_wasm.ts is stale
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomically } from '../src/util/atomic_write.ts';
import { assembleWat } from './assemble_wat.ts';

const WAT = fileURLToPath(new URL('../src/train/kernels/train_kernels.wat', import.meta.url));
const OUT = fileURLToPath(new URL('../src/train/kernels/train_kernels_wasm.ts', import.meta.url));

/** The text of train_kernels_wasm.ts for the current train_kernels.wat (in the formatter's layout). */
export async function trainKernelsWasmSource(): Promise<string> {
  const { plain } = await assembleWat(WAT);
  return [
    '// train_kernels.wasm, its plain-memory build: made from train_kernels.wat by',
    '// scripts/build_train_kernels.ts (a test checks it matches). Do not edit.',
    `export const TRAIN_KERNELS_WASM =\n  '${plain}';`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  const updated = await trainKernelsWasmSource();
  if (process.argv.includes('--check')) {
    if (updated !== current) {
      console.error('src/train/kernels/train_kernels_wasm.ts is stale: run node --import tsx scripts/build_train_kernels.ts');
      process.exitCode = 1;
    }
  } else if (updated !== current) {
    await writeFileAtomically(OUT, updated, 'the training kernels');
    console.log('wrote src/train/kernels/train_kernels_wasm.ts');
  }
}
