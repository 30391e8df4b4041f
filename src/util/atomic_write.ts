// Writing files so that nothing half-written is ever left: each file goes to a temporary file
// beside it (`.<name>.<tag>.tmp`), and only when every one is complete are they renamed into
// place. On failure the temporary files are removed and a SlimcError names the first path.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import { describeFsError } from './fs_errors.ts';

export interface FileToWrite {
  readonly path: string;
  readonly data: string | Uint8Array;
}

/** `what` says what is written, for the error message ("the weights file", "the model"). */
export async function writeFilesAtomically(files: readonly FileToWrite[], what: string): Promise<void> {
  const tag = randomBytes(6).toString('hex');
  const temporary = (path: string) => join(dirname(path), `.${basename(path)}.${tag}.tmp`);
  try {
    for (const f of files) await writeFile(temporary(f.path), f.data);
    for (const f of files) await rename(temporary(f.path), f.path);
  } catch (e) {
    await Promise.all(files.map((f) => rm(temporary(f.path), { force: true })));
    const reason = describeFsError(e);
    throw new SlimcError(`cannot write ${what}: ${reason === 'file not found' ? 'its directory does not exist' : reason}`, files[0]?.path);
  }
}

export const writeFileAtomically = (path: string, data: string | Uint8Array, what: string): Promise<void> =>
  writeFilesAtomically([{ path, data }], what);
