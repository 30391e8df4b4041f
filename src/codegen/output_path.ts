// Which output directories slimc may replace. Compiling replaces the output directory as a whole,
// so a path that holds the user's other work is refused before anything is read or written: the
// empty path (`--out "$UNSET"`), the current directory, the home directory, any directory that
// contains one of those, and any directory that contains the model being compiled. Paths are
// compared after resolving symbolic links, so `--out link-to-home` is refused too.
import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { SlimcError } from '../ir/errors.ts';

/** `path` with symbolic links resolved as far as it exists (the rest appended as written). */
export async function canonicalPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(await canonicalPath(parent), basename(absolute));
  }
}

/** Whether `outer` is `inner` or one of its ancestors. */
export const contains = (outer: string, inner: string): boolean =>
  inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Throws a SlimcError (naming the flag and the path) if `dir` must not be an output directory;
 * `inputs` are the files the command reads (the model, its weights).
 */
export async function refuseUnsafeOutputPath(dir: string, inputs: readonly string[] = []): Promise<void> {
  if (dir.trim() === '') {
    throw new SlimcError('the output directory is empty; give the directory to write (slimc replaces it as a whole)', '--out');
  }
  const target = await canonicalPath(dir);
  const refuse = (what: string): never => {
    throw new SlimcError(`is ${what}; slimc replaces its output directory as a whole, so give a directory of its own`, `--out ${dir}`);
  };
  const cwd = await canonicalPath(process.cwd());
  if (target === cwd) refuse('the current directory');
  if (contains(target, cwd)) refuse(`a parent of the current directory (${cwd})`);
  const home = await canonicalPath(homedir());
  if (target === home) refuse('the home directory');
  if (contains(target, home)) refuse(`a parent of the home directory (${home})`);
  for (const input of inputs) {
    if (contains(target, await canonicalPath(input))) refuse(`a directory holding the input ${input}`);
  }
}
