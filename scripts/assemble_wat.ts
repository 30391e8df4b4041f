// Assembles one of slimc's own wasm kernels (a .wat file whose memory import reads
// `"memory" MEMORY`) in its two builds, plain memory and shared memory (threaded backends), with
// wabt, a dev dependency: what ships is the bytes, never the assembler.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import wabtInit from 'wabt';

/** The two builds' bytes, base64. */
export async function assembleWat(path: string): Promise<{ readonly plain: string; readonly shared: string }> {
  const wabt = await wabtInit();
  const text = readFileSync(path, 'utf8');
  const name = basename(path);
  if (!text.includes('"memory" MEMORY')) throw new Error(`${name}: no "memory" MEMORY import to fill in`);
  const build = (memory: string) => {
    const module = wabt.parseWat(name, text.replace('"memory" MEMORY', `"memory" ${memory}`), {
      threads: true,
      bulk_memory: true,
      simd: true,
    });
    try {
      const bytes = new Uint8Array(module.toBinary({}).buffer);
      if (!WebAssembly.validate(bytes)) throw new Error(`${name} (${memory}) does not validate`);
      return Buffer.from(bytes).toString('base64');
    } finally {
      module.destroy();
    }
  };
  // 65536 pages: any maximum the backend's shared memory has fits under it.
  return { plain: build('(memory 1)'), shared: build('(memory 1 65536 shared)') };
}
