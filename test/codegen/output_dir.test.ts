// Output directories: paths holding other work are refused, files slimc did not write are never
// deleted unasked, a declined commit (a failed check) leaves an earlier output alone, and what a
// killed run left behind is cleaned up, completed or rolled back by the next one.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { GENERATOR, REPORT_FILE, checkOutputDir, writeOutputDir } from '../../src/codegen/output_dir.ts';
import { refuseUnsafeOutputPath } from '../../src/codegen/output_path.ts';
import { runMain } from '../helpers/cli.ts';

const BIN = new URL('../../bin/slimc.js', import.meta.url).pathname;
const MODEL = new URL('../fixtures/models/sparse_resnet20.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'slimc-outdir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid no process has: one of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid as number;

const report = (files: readonly string[]) => JSON.stringify({ generator: GENERATOR, files: files.map((name) => ({ name, bytes: 1 })) });
const commit = (replace: boolean, version: string) => async () => ({
  files: { [REPORT_FILE]: report(['model.js']), 'version.txt': version },
  replace,
});
const read = (dir: string) => readFileSync(join(dir, 'version.txt'), 'utf8');

/** `slimc ...args` in a subprocess with the given working directory and home. */
async function slimcIn(cwd: string, home: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, HOME: home } });
    return { code: 0, stderr };
  } catch (e) {
    return e as { code: number; stderr: string };
  }
}

describe('output paths', () => {
  it('compile refuses the empty path and the current directory, and touches nothing there', async () => {
    const project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'precious.txt'), 'keep me');
    const empty = await slimcIn(project, root, 'compile', MODEL, '--out', '');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/--out: the output directory is empty/);
    const dot = await slimcIn(project, root, 'compile', MODEL, '--out', '.', '--force');
    expect(dot.code).toBe(1);
    expect(dot.stderr).toMatch(/--out \.: is the current directory; slimc replaces its output directory as a whole/);
    expect(readdirSync(project)).toEqual(['precious.txt']);
  });

  it('refuses ancestors of the current directory, the home directory, and directories holding an input', async () => {
    await expect(refuseUnsafeOutputPath('..')).rejects.toThrow(/is a parent of the current directory/);
    await expect(refuseUnsafeOutputPath('/')).rejects.toThrow(/is a parent of the current directory/);
    await expect(refuseUnsafeOutputPath(homedir())).rejects.toThrow(/is the home directory|parent of the current directory/);
    await expect(refuseUnsafeOutputPath(dirname(MODEL), [MODEL])).rejects.toThrow(/a directory holding the input .*sparse_resnet20\.ts/);
    await expect(refuseUnsafeOutputPath(join(dirname(MODEL), '..'), [MODEL])).rejects.toThrow(/holding the input/);
    await expect(refuseUnsafeOutputPath(join(root, 'fresh', 'out'), [MODEL])).resolves.toBeUndefined();
  });
});

describe('replacing an output directory', () => {
  it('refuses to delete files slimc did not write, naming them, unless forced', async () => {
    const out = join(root, 'with-extras');
    expect(await writeOutputDir(out, { 'model.js': 'one' }, {}, commit(true, '1'))).toBe(true);
    writeFileSync(join(out, 'index.html'), '<html>');
    await expect(writeOutputDir(out, { 'model.js': 'two' }, {}, commit(true, '2'))).rejects.toThrow(
      /holds files slimc did not write: index\.html, version\.txt/,
    );
    expect(readdirSync(out).sort()).toEqual(['index.html', 'model.js', 'report.json', 'version.txt']);
    expect(await writeOutputDir(out, { 'model.js': 'two' }, { force: true }, commit(true, '2'))).toBe(true);
    expect(existsSync(join(out, 'index.html'))).toBe(false);
  });

  it('a declined commit (failed check) never replaces an earlier output, but writes a new one', async () => {
    const out = join(root, 'checked');
    expect(await writeOutputDir(out, { 'model.js': 'good', 'version.txt': 'x' }, {}, commit(false, 'bad first'))).toBe(true);
    expect(read(out)).toBe('bad first');
    rmSync(out, { recursive: true });
    const files = { 'model.js': 'good', 'version.txt': 'x' };
    expect(await writeOutputDir(out, files, {}, commit(true, 'good'))).toBe(true);
    expect(await writeOutputDir(out, files, {}, commit(false, 'bad'))).toBe(false);
    expect(read(out)).toBe('good');
    expect(readdirSync(root).filter((f) => f.includes('.checked.slimc-'))).toEqual([]);
  });

  it('removes temporaries of dead runs, keeps those of live ones, and finishes or undoes a cut swap', async () => {
    const out = join(root, 'recovered');
    const files = { 'model.js': 'js', 'version.txt': 'x' };
    await writeOutputDir(out, files, {}, commit(true, 'first'));
    const dead = deadPid();
    const stale = join(root, `.recovered.slimc-${dead}-AbC123`);
    const live = join(root, `.recovered.slimc-${process.ppid}-XyZ789`);
    mkdirSync(stale);
    mkdirSync(live);
    const notices: string[] = [];
    await checkOutputDir(out, { files: ['version.txt'], notice: (line) => notices.push(line) });
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(notices.join('\n')).toMatch(new RegExp(`removed \\.recovered\\.slimc-${dead}-AbC123 .* process ${dead}, which no longer runs`));
    rmSync(live, { recursive: true });

    // Killed between the renames, with the new directory complete: the swap is completed.
    const cut = join(root, `.recovered.slimc-${dead}-Cut001`);
    mkdirSync(cut);
    writeFileSync(join(cut, 'version.txt'), 'second');
    writeFileSync(join(cut, REPORT_FILE), report(['version.txt']));
    renameSync(out, `${cut}.old`);
    await checkOutputDir(out, { files: ['version.txt'] });
    expect(read(out)).toBe('second');
    expect(readdirSync(root).filter((f) => f.startsWith('.recovered.'))).toEqual([]);

    // Killed between the renames, the new directory gone: the earlier one is put back.
    renameSync(out, `${cut}.old`);
    await checkOutputDir(out, { files: ['version.txt'] });
    expect(read(out)).toBe('second');
    expect(readdirSync(root).filter((f) => f.startsWith('.recovered.'))).toEqual([]);
  });
});

describe('slimc export', () => {
  it('does not overwrite an existing file without --force', async () => {
    const target = join(root, 'existing.onnx');
    writeFileSync(target, 'mine');
    const refused = await runMain(['export', MODEL, '-o', target]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/existing\.onnx: exists; use --force to replace it/);
    expect(readFileSync(target, 'utf8')).toBe('mine');
    const forced = await runMain(['export', MODEL, '-o', target, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(target).length).toBeGreaterThan(1000);
  });
});
