// Reading and writing weights files on disk (Node only; the format itself is in weights_file.ts).
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

/**
 * Writes the weights file atomically: the bytes go to a temporary file in the same directory,
 * which is then renamed over `path`, so readers see the old file or the new one, never a part.
 */
export async function writeWeightsFile(path: string, weights: Weights): Promise<void> {
  const bytes = encodeWeights(weights);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (e) {
    await rm(temporary, { force: true });
    const reason = describeFsError(e);
    throw new SlimcError(`cannot write the weights file: ${reason === 'file not found' ? 'its directory does not exist' : reason}`, path);
  }
}

/** A one-line reason for a failed file operation ("file not found" rather than a raw errno). */
export function describeFsError(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}
