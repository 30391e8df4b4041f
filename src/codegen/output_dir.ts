// Writing a compiled model's files: into a fresh temporary directory beside the target, checked
// there, then swapped into place, so that a failed compile never leaves a half-written output and
// a failed check never replaces an earlier one. An existing target is replaced only when it is a
// previous slimc output holding nothing slimc did not write, or when the caller forces it; paths
// that hold the user's other work are never replaced (output_path.ts).
//
// The temporary directory of D is `.D.slimc-<pid>-<random>`; during the swap the previous D is
// `.D.slimc-<pid>-<random>.old` for the moment between two renames. A run that is killed leaves
// these behind, so every run first looks for those of processes that no longer exist: it removes
// them, and where a swap was cut between its renames (D missing, the `.old` present) it completes
// it (the new directory was complete and checked, or it would not have been swapped) or, if the
// new directory is gone, rolls it back.
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import { describeFsError } from '../util/fs_errors.ts';
import { refuseUnsafeOutputPath } from './output_path.ts';
import { processAlive } from '../util/process_alive.ts';

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

interface PreviousReport {
  readonly generator?: unknown;
  readonly files?: unknown;
}

async function readReport(dir: string): Promise<PreviousReport | null> {
  try {
    const report: unknown = JSON.parse(await readFile(join(dir, REPORT_FILE), 'utf8'));
    return typeof report === 'object' && report !== null ? (report as PreviousReport) : null;
  } catch {
    return null;
  }
}

/** Whether `dir` holds a report.json written by slimc compile. */
export async function isSlimcOutput(dir: string): Promise<boolean> {
  return (await readReport(dir))?.generator === GENERATOR;
}

/** Entries of a previous slimc output that its report does not list as slimc's (and not `written`). */
async function foreignEntries(dir: string, report: PreviousReport, written: readonly string[]): Promise<string[]> {
  const listed = Array.isArray(report.files)
    ? report.files.map((f: { name?: unknown }) => f?.name).filter((n): n is string => typeof n === 'string')
    : [];
  const ours = new Set([REPORT_FILE, ...written, ...listed]);
  return (await readdir(dir)).filter((entry) => !ours.has(entry)).sort();
}

export interface OutputDirOptions {
  /** Replace an existing directory that is not a previous slimc output, with all it holds. */
  readonly force?: boolean;
  /** Files the command reads: a directory holding one is never an output. */
  readonly inputs?: readonly string[];
  /** Names of the files the new output will hold (besides report.json). */
  readonly files?: readonly string[];
  /** A line for each interrupted earlier write that was cleaned up, completed or rolled back. */
  readonly notice?: (line: string) => void;
}

/**
 * Checks that `dir` may be written (before any long work), after recovering what killed runs left
 * beside it. Refuses paths holding other work, files and foreign directories unless forced, and
 * a previous output holding files slimc did not write unless forced (it names them).
 */
export async function checkOutputDir(dir: string, opts: OutputDirOptions = {}): Promise<void> {
  await refuseUnsafeOutputPath(dir, opts.inputs);
  await recoverInterruptedWrites(dir, opts.notice);
  const kind = await kindOf(dir);
  if (kind === 'missing' || opts.force) return;
  if (kind === 'file') throw new SlimcError('exists and is a file, not a directory (use --force to replace it)', dir);
  const report = await readReport(dir);
  if (report?.generator !== GENERATOR) {
    throw new SlimcError('exists and is not a previous slimc compile output (no report.json from slimc); use --force to replace it', dir);
  }
  const foreign = await foreignEntries(dir, report, opts.files ?? []);
  if (foreign.length > 0) {
    const listed = foreign.slice(0, 10).join(', ') + (foreign.length > 10 ? `, ... (${foreign.length} in all)` : '');
    throw new SlimcError(
      `holds files slimc did not write: ${listed}; recompiling replaces the directory, so move them elsewhere (or use --force to replace them too)`,
      dir,
    );
  }
}

const TEMPORARY = /^\.(.*)\.slimc-(\d+)-[A-Za-z0-9]+(\.old)?$/;

/** Removes, completes or rolls back what runs that died while writing `dir` left beside it. */
export async function recoverInterruptedWrites(dir: string, notice?: (line: string) => void): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return; // No parent yet: nothing was left.
  }
  const staging = new Map<string, { readonly pid: number; old: boolean; complete: boolean }>();
  for (const entry of entries) {
    const m = TEMPORARY.exec(entry);
    if (!m || m[1] !== basename(target)) continue;
    const base = m[3] ? entry.slice(0, -'.old'.length) : entry;
    const found = staging.get(base) ?? { pid: Number(m[2]), old: false, complete: false };
    if (m[3]) found.old = true;
    else found.complete = true;
    staging.set(base, found);
  }
  for (const [name, run] of staging) {
    if (processAlive(run.pid)) continue;
    const temporary = join(parent, name);
    try {
      if (run.old && (await kindOf(target)) === 'missing') {
        // Cut between the two renames of the swap.
        if (run.complete) {
          await rename(temporary, target);
          notice?.(`completed the replacement of ${dir} that process ${run.pid} began`);
        } else {
          await rename(`${temporary}.old`, target);
          notice?.(`restored ${dir} as it was before process ${run.pid} began replacing it`);
        }
      }
      await rm(temporary, { recursive: true, force: true });
      await rm(`${temporary}.old`, { recursive: true, force: true });
      notice?.(`removed ${name} left in ${parent} by process ${run.pid}, which no longer runs`);
    } catch (e) {
      throw new SlimcError(`cannot clean up ${name}, left by process ${run.pid}: ${describeFsError(e)}`, dir);
    }
  }
}

/** What `beforeCommit` returns: more files, and whether the output may replace an earlier one. */
export interface Commit {
  readonly files: OutputFiles;
  /** False when the output failed its check: it is written only where nothing was before. */
  readonly replace: boolean;
}

/**
 * Writes `files` as the directory `dir`, replacing it as checkOutputDir allows. `beforeCommit`
 * runs on the complete temporary directory before it is swapped into place, may add files (the
 * report of a check run on the written module) and may decline to replace an earlier output.
 * Returns whether `dir` now holds the new files.
 */
export async function writeOutputDir(
  dir: string,
  files: OutputFiles,
  opts: OutputDirOptions = {},
  beforeCommit?: (staging: string) => Promise<Commit>,
): Promise<boolean> {
  await checkOutputDir(dir, { ...opts, files: Object.keys(files) });
  const target = resolve(dir);
  const parent = dirname(target);
  let staging: string;
  try {
    // Like `mkdir -p`: `--out build/models/mnist` works on a fresh checkout.
    await mkdir(parent, { recursive: true });
    staging = await mkdtemp(join(parent, `.${basename(target)}.slimc-${process.pid}-`));
  } catch (e) {
    throw new SlimcError(`cannot create the output directory: ${describeFsError(e)}`, dir);
  }
  const previous = `${staging}.old`;
  let moved = false;
  try {
    // mkdtemp makes the directory private (0700); the output is meant to be served and shared.
    await chmod(staging, 0o755);
    for (const [name, content] of Object.entries(files)) await writeFile(join(staging, name), content);
    const commit = beforeCommit ? await beforeCommit(staging) : { files: {}, replace: true };
    for (const [name, content] of Object.entries(commit.files)) await writeFile(join(staging, name), content);
    const exists = (await kindOf(target)) !== 'missing';
    if (exists && !commit.replace) {
      await rm(staging, { recursive: true, force: true });
      return false;
    }
    if (exists) {
      await rename(target, previous);
      moved = true;
    }
    await rename(staging, target);
    moved = false;
    if (exists) await rm(previous, { recursive: true, force: true });
    return true;
  } catch (e) {
    // Put the earlier output back if it was moved aside, then drop the new files.
    if (moved) await rename(previous, target).catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    // File system errors are the user's to fix; anything else (a failing check) passes through.
    const fsError = typeof e === 'object' && e !== null && 'code' in e && !(e instanceof SlimcError);
    if (!fsError) throw e;
    throw new SlimcError(`cannot write the output directory: ${describeFsError(e)}`, dir);
  }
}
