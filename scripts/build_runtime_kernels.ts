// Assembles the plan runtime's own wasm modules (assemble_wat.ts: the emitted modules carry the
// bytes, never the assembler) and writes their plain-memory builds as base64 into model_runtime.js
// between its `<name>.wasm: begin/end` lines (the runtime derives the shared-memory build, for
// threaded backends, from the plain one; a test checks it equals the assembled one):
// - copy_runs.wat, written by hand: channel gathers and concats;
// - narrow_conv.wat, written by scripts/narrow_conv_wat.ts (regenerated here): convolutions.
//
//   node --import tsx scripts/build_runtime_kernels.ts           # after editing a .wat or the generator
//   node --import tsx scripts/build_runtime_kernels.ts --check   # exit 1 if anything is stale
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomically } from '../src/util/atomic_write.ts';
import { assembleWat } from './assemble_wat.ts';
import { narrowConvWat } from './narrow_conv_wat.ts';

const RUNTIME = fileURLToPath(new URL('../src/codegen/runtime/model_runtime.js', import.meta.url));
const NARROW_CONV_WAT = fileURLToPath(new URL('../src/codegen/runtime/narrow_conv.wat', import.meta.url));

interface RuntimeKernel {
  /** The .wat's base name, which also names the begin/end block. */
  readonly name: string;
  /** The constant holding the plain build, base64. */
  readonly constant: string;
}

export const RUNTIME_KERNELS: readonly RuntimeKernel[] = [
  { name: 'copy_runs', constant: 'COPY_RUNS_WASM' },
  { name: 'narrow_conv', constant: 'NARROW_CONV_WASM' },
];

/** The two builds' bytes, base64: the memory import plain, and shared (threaded backends). */
export interface BuiltKernel {
  readonly plain: string;
  readonly shared: string;
}

const watPath = (name: string): string => fileURLToPath(new URL(`../src/codegen/runtime/${name}.wat`, import.meta.url));

/** Every runtime kernel module assembled from its .wat as it is on disk. */
export async function assembleRuntimeKernels(): Promise<Map<string, BuiltKernel>> {
  const built = new Map<string, BuiltKernel>();
  for (const { name } of RUNTIME_KERNELS) built.set(name, await assembleWat(watPath(name)));
  return built;
}

/** One runtime kernel module's plain build as bytes, assembled from its .wat (for tests to run or rewrite). */
export async function plainBuildOf(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const built = (await assembleRuntimeKernels()).get(name);
  if (built === undefined) throw new Error(`${name} is not a runtime kernel module`);
  return Uint8Array.from(Buffer.from(built.plain, 'base64'));
}

/** model_runtime.js's text with the constants of `built`. */
export function runtimeWith(runtime: string, built: ReadonlyMap<string, BuiltKernel>): string {
  let text = runtime;
  for (const { name, constant } of RUNTIME_KERNELS) {
    const bytes = built.get(name);
    if (bytes === undefined) throw new Error(`${name}.wasm was not assembled`);
    const block = new RegExp(`(// ${name}\\.wasm: begin\\n)[\\s\\S]*?(// ${name}\\.wasm: end\\n)`);
    if (!block.test(text)) throw new Error(`model_runtime.js: no ${name}.wasm begin/end block`);
    // In the formatter's layout (a long string on a line of its own): `prettier --check` agrees.
    text = text.replace(block, (_, begin: string, end: string) => `${begin}const ${constant} =\n  '${bytes.plain}';\n${end}`);
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  const wrote: string[] = [];
  const wat = narrowConvWat();
  if (!existsSync(NARROW_CONV_WAT) || readFileSync(NARROW_CONV_WAT, 'utf8') !== wat) {
    if (check) stale.push('narrow_conv.wat');
    else {
      await writeFileAtomically(NARROW_CONV_WAT, wat, 'narrow_conv.wat');
      wrote.push('src/codegen/runtime/narrow_conv.wat');
    }
  }
  const runtime = readFileSync(RUNTIME, 'utf8');
  const updated = runtimeWith(runtime, await assembleRuntimeKernels());
  if (updated !== runtime) {
    if (check) stale.push('the wasm bytes in model_runtime.js');
    else {
      await writeFileAtomically(RUNTIME, updated, 'the runtime');
      wrote.push('the wasm bytes into src/codegen/runtime/model_runtime.js');
    }
  }
  if (stale.length > 0) {
    console.error(`stale: ${stale.join(', ')}; run node --import tsx scripts/build_runtime_kernels.ts`);
    process.exitCode = 1;
  } else if (!check) console.log(wrote.length === 0 ? 'runtime kernels are current' : `wrote ${wrote.join(' and ')}`);
}
