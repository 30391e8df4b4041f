// Writing a compiled model's files: into a fresh temporary directory beside the target, then
// renamed into place, so that a failed compile never leaves a half-written output. An existing
// target is replaced only when it is a previous slimc output (it holds a report.json that says
// so) or when the caller forces it.
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import { describeFsError } from '../util/fs_errors.ts';

export const REPORT_FILE = 'report.json';
/** The `generator` field of report.json that marks a directory as slimc's output. */
export const GENERATOR = 'slimc compile';

export type OutputFiles = Readonly<Record<string, string | Uint8Array>>;

async function kindOf(path: string): Promise<'missing' | 'file' | 'directory'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return 'missing';
    throw new SlimcError(`cannot read the output directory: ${describeFsError(e)}`, path);
  }
}

/** Whether `dir` holds a report.json written by slimc compile. */
export async function isSlimcOutput(dir: string): Promise<boolean> {
  try {
    const report = JSON.parse(await readFile(join(dir, REPORT_FILE), 'utf8')) as { generator?: unknown };
    return report.generator === GENERATOR;
  } catch {
    return false;
  }
}

/** Checks that `dir` may be written (before any long work), without touching it. */
export async function checkOutputDir(dir: string, force: boolean): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'missing' || force) return;
  if (kind === 'file') throw new SlimcError('exists and is a file, not a directory (use --force to replace it)', dir);
  if (!(await isSlimcOutput(dir))) {
    throw new SlimcError('exists and is not a previous slimc compile output (no report.json from slimc); use --force to replace it', dir);
  }
}

/**
 * Writes `files` as the directory `dir`, replacing it as checkOutputDir allows. `beforeCommit`
 * runs on the complete temporary directory before it is renamed into place and may add files
 * (the report of a check run on the written module).
 */
export async function writeOutputDir(
  dir: string,
  files: OutputFiles,
  force: boolean,
  beforeCommit?: (staging: string) => Promise<OutputFiles>,
): Promise<void> {
  await checkOutputDir(dir, force);
  const target = resolve(dir);
  const parent = dirname(target);
  let staging: string;
  try {
    // Like `mkdir -p`: `--out build/models/mnist` works on a fresh checkout.
    await mkdir(parent, { recursive: true });
    staging = await mkdtemp(join(parent, `.${basename(target)}.slimc-`));
  } catch (e) {
    throw new SlimcError(`cannot create the output directory: ${describeFsError(e)}`, dir);
  }
  try {
    // mkdtemp makes the directory private (0700); the output is meant to be served and shared.
    await chmod(staging, 0o755);
    for (const [name, content] of Object.entries(files)) await writeFile(join(staging, name), content);
    const more = beforeCommit ? await beforeCommit(staging) : {};
    for (const [name, content] of Object.entries(more)) await writeFile(join(staging, name), content);
    const previous = (await kindOf(target)) === 'missing' ? null : `${staging}.old`;
    if (previous !== null) await rename(target, previous);
    await rename(staging, target);
    if (previous !== null) await rm(previous, { recursive: true, force: true });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    // File system errors are the user's to fix; anything else (a failing check) passes through.
    const fsError = typeof e === 'object' && e !== null && 'code' in e && !(e instanceof SlimcError);
    if (!fsError) throw e;
    throw new SlimcError(`cannot write the output directory: ${describeFsError(e)}`, dir);
  }
}
