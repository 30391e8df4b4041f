// Writing files so that nothing half-written is ever left: each file goes to a temporary file
// beside it (`.<name>.<pid>-<tag>.tmp`), and only when every one is complete are they renamed
// into place. On failure the temporary files are removed and a SlimcError names the first path;
// those a killed run left are removed by the next write of the same file.
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import { describeFsError } from './fs_errors.ts';
import { processAlive } from './process_alive.ts';

export interface FileToWrite {
  readonly path: string;
  readonly data: string | Uint8Array;
}

/** `what` says what is written, for the error message ("the weights file", "the model"). */
export async function writeFilesAtomically(files: readonly FileToWrite[], what: string): Promise<void> {
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const temporary = (path: string) => join(dirname(path), `.${basename(path)}.${tag}.tmp`);
  await removeDeadTemporaries(files.map((f) => f.path));
  try {
    for (const f of files) await writeFile(temporary(f.path), f.data);
    for (const f of files) await rename(temporary(f.path), f.path);
  } catch (e) {
    await Promise.all(files.map((f) => rm(temporary(f.path), { force: true })));
    const reason = describeFsError(e);
    throw new SlimcError(`cannot write ${what}: ${reason === 'file not found' ? 'its directory does not exist' : reason}`, files[0]?.path);
  }
}

/** Removes the temporaries of `paths` that runs no longer alive left (killed between write and rename). */
async function removeDeadTemporaries(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const name = basename(path);
    let entries: string[];
    try {
      entries = await readdir(dirname(path));
    } catch {
      continue; // The write itself reports a missing directory.
    }
    for (const entry of entries) {
      const prefix = `.${name}.`;
      const pid = entry.startsWith(prefix) ? /^(\d+)-[0-9a-f]+\.tmp$/.exec(entry.slice(prefix.length)) : null;
      if (pid !== null && !processAlive(Number(pid[1]))) await rm(join(dirname(path), entry), { force: true });
    }
  }
}

export const writeFileAtomically = (path: string, data: string | Uint8Array, what: string): Promise<void> =>
  writeFilesAtomically([{ path, data }], what);

/** Throws unless `path` is free to write: missing, or an existing file when `force` is given. */
export async function refuseExistingFile(path: string, force: boolean): Promise<void> {
  if (path.trim() === '') throw new SlimcError('the output file name is empty');
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return;
    throw new SlimcError(`cannot read the output file: ${describeFsError(e)}`, path);
  }
  if (isDirectory) throw new SlimcError('is a directory; give a file name to write', path);
  if (!force) throw new SlimcError('exists; use --force to replace it', path);
}
