// Assembles src/train/kernels/batch_norm.wat (assemble_wat.ts) in its two builds and writes them
// as base64 into src/train/kernels/batch_norm_wasm.ts, which training loads: `slimc train` needs
// no assembler.
//
//   node --import tsx scripts/build_train_kernels.ts           # after editing batch_norm.wat
//   node --import tsx scripts/build_train_kernels.ts --check   # exit 1 if batch_norm_wasm.ts is stale
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomically } from '../src/util/atomic_write.ts';
import { assembleWat } from './assemble_wat.ts';

const WAT = fileURLToPath(new URL('../src/train/kernels/batch_norm.wat', import.meta.url));
const OUT = fileURLToPath(new URL('../src/train/kernels/batch_norm_wasm.ts', import.meta.url));

/** The text of batch_norm_wasm.ts for the current batch_norm.wat (in the formatter's layout). */
export async function batchNormWasmSource(): Promise<string> {
  const { plain, shared } = await assembleWat(WAT);
  return [
    '// batch_norm.wasm, plain and shared-memory builds: made from batch_norm.wat by',
    '// scripts/build_train_kernels.ts (a test checks these match it). Do not edit.',
    `export const BATCH_NORM_WASM =\n  '${plain}';`,
    `export const BATCH_NORM_WASM_SHARED =\n  '${shared}';`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  const updated = await batchNormWasmSource();
  if (process.argv.includes('--check')) {
    if (updated !== current) {
      console.error('src/train/kernels/batch_norm_wasm.ts is stale: run node --import tsx scripts/build_train_kernels.ts');
      process.exitCode = 1;
    }
  } else if (updated !== current) {
    await writeFileAtomically(OUT, updated, 'the batch norm kernels');
    console.log('wrote src/train/kernels/batch_norm_wasm.ts');
  }
}
