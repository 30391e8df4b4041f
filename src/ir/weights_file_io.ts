// Reading and writing weights files on disk (Node only; the format itself is in weights_file.ts).
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../util/atomic_write.ts';
import { describeFsError } from '../util/fs_errors.ts';
import { SlimcError } from './errors.ts';
import type { Weights } from './types.ts';
import { decodeWeights, encodeWeights } from './weights_file.ts';

export async function readWeightsFile(path: string): Promise<Weights> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SlimcError(`cannot read the weights file: ${describeFsError(e)}`, path);
  }
  return decodeWeights(bytes, path);
}

/** Writes the weights file atomically: readers see the old file or the new one, never a part. */
export async function writeWeightsFile(path: string, weights: Weights): Promise<void> {
  await writeFileAtomically(path, encodeWeights(weights), 'the weights file');
}
