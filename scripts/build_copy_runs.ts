// Assembles src/codegen/runtime/copy_runs.wat (assemble_wat.ts: the emitted modules carry the
// bytes, never the assembler) in its two builds, plain memory and shared memory, and writes them
// as base64 into model_runtime.js between its `copy_runs.wasm: begin/end` lines.
//
//   node --import tsx scripts/build_copy_runs.ts           # after editing copy_runs.wat
//   node --import tsx scripts/build_copy_runs.ts --check   # exit 1 if model_runtime.js is stale
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomically } from '../src/util/atomic_write.ts';
import { assembleWat } from './assemble_wat.ts';

const RUNTIME = fileURLToPath(new URL('../src/codegen/runtime/model_runtime.js', import.meta.url));
const WAT = fileURLToPath(new URL('../src/codegen/runtime/copy_runs.wat', import.meta.url));
const BLOCK = /(\/\/ copy_runs\.wasm: begin\n)[\s\S]*?(\/\/ copy_runs\.wasm: end\n)/;

/** The two builds' bytes, base64: the memory import plain, and shared (threaded backends). */
export function assembleCopyRuns(): Promise<{ readonly plain: string; readonly shared: string }> {
  return assembleWat(WAT);
}

/** model_runtime.js's text with the constants of `built`. */
export function runtimeWith(runtime: string, built: { readonly plain: string; readonly shared: string }): string {
  if (!BLOCK.test(runtime)) throw new Error('model_runtime.js: no copy_runs.wasm begin/end block');
  return runtime.replace(
    BLOCK,
    // In the formatter's layout (a long string on a line of its own): `prettier --check` agrees.
    (_, begin: string, end: string) =>
      `${begin}const COPY_RUNS_WASM =\n  '${built.plain}';\nconst COPY_RUNS_WASM_SHARED =\n  '${built.shared}';\n${end}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runtime = readFileSync(RUNTIME, 'utf8');
  const updated = runtimeWith(runtime, await assembleCopyRuns());
  if (process.argv.includes('--check')) {
    if (updated !== runtime) {
      console.error('model_runtime.js holds stale copy_runs.wasm bytes: run node --import tsx scripts/build_copy_runs.ts');
      process.exitCode = 1;
    }
  } else if (updated !== runtime) {
    await writeFileAtomically(RUNTIME, updated, 'the runtime');
    console.log('wrote the copy_runs.wasm bytes into src/codegen/runtime/model_runtime.js');
  }
}
