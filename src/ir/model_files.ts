// Writing a graph as its two files, `<name>.slim` (textual IR) and `<name>.weights.bin`.
// Both are renamed into place only when both are complete (util/atomic_write.ts), so a failure
// leaves no half-written model behind.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFilesAtomically } from '../util/atomic_write.ts';
import { SlimcError } from './errors.ts';
import { printGraph } from './text/printer.ts';
import type { Graph } from './types.ts';
import { encodeWeights } from './weights_file.ts';

/** `model.slim` -> `model.weights.bin`, in the same directory. */
export const weightsPathFor = (slimPath: string) => slimPath.replace(/\.slim$/i, '') + '.weights.bin';

export async function writeSlimModel(slimPath: string, graph: Graph): Promise<{ ir: string; weights: string }> {
  if (!slimPath.toLowerCase().endsWith('.slim')) throw new SlimcError('the output file name must end in .slim', slimPath);
  const files = { ir: slimPath, weights: weightsPathFor(slimPath) };
  // Like `mkdir -p`: `-o out/pruned.slim` works on a fresh checkout.
  await mkdir(dirname(slimPath), { recursive: true });
  await writeFilesAtomically(
    [
      { path: files.ir, data: printGraph(graph) },
      { path: files.weights, data: encodeWeights(graph.weights) },
    ],
    'the model',
  );
  return files;
}
