// Writing a graph as its two files, `<name>.slim` (textual IR) and `<name>.weights.bin`.
// Both are written to temporary files first and renamed into place only when both are
// complete, so a failure leaves no half-written model behind.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SlimcError } from './errors.ts';
import { printGraph } from './text/printer.ts';
import type { Graph } from './types.ts';
import { encodeWeights } from './weights_file.ts';
import { describeFsError } from './weights_file_io.ts';

/** `model.slim` -> `model.weights.bin`, in the same directory. */
export const weightsPathFor = (slimPath: string) => slimPath.replace(/\.slim$/i, '') + '.weights.bin';

export async function writeSlimModel(slimPath: string, graph: Graph): Promise<{ ir: string; weights: string }> {
  if (!slimPath.toLowerCase().endsWith('.slim')) throw new SlimcError('the output file name must end in .slim', slimPath);
  const files = [
    { path: slimPath, data: printGraph(graph) as string | Uint8Array },
    { path: weightsPathFor(slimPath), data: encodeWeights(graph.weights) },
  ];
  const tag = randomBytes(6).toString('hex');
  const temporary = (path: string) => join(dirname(path), `.${basename(path)}.${tag}.tmp`);
  try {
    await mkdir(dirname(slimPath), { recursive: true });
    for (const f of files) await writeFile(temporary(f.path), f.data);
    for (const f of files) await rename(temporary(f.path), f.path);
  } catch (e) {
    await Promise.all(files.map((f) => rm(temporary(f.path), { force: true })));
    throw new SlimcError(`cannot write the model: ${describeFsError(e)}`, slimPath);
  }
  return { ir: files[0].path, weights: files[1].path };
}
