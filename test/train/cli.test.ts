// The training commands as a user runs them: `slimc train` in a child process, stopped with
// Ctrl-C (SIGINT) and resumed; bad data named clearly.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/train/checkpoint.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const slimc = join(root, 'bin', 'slimc.js');
const model = join(root, 'examples', 'mnist', 'model.ts');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs slimc; `interruptWhen` sends SIGINT once stderr matches it. */
function run(args: readonly string[], interruptWhen?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [slimc, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (interruptWhen && !sent && interruptWhen.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimc-train-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('slimc train', () => {
  it('stops on Ctrl-C with a checkpoint, and --resume continues from it', async () => {
    const out = join(dir, 'ckpt');
    const common = ['train', model, '--data', 'mnist', '--epochs', '1', '--sparsity', '1e-4', '-o', out];
    // The first log line comes after the first step: interrupt there.
    const first = await run(common, /step 1\/126/);
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/stopping after this step and writing a checkpoint/);
    expect(first.stderr).toMatch(/slimc: stopped at step \d+; checkpoint .*epoch-000-step-0000\d\d/);
    expect(first.stderr).not.toMatch(/error/);
    const stopped = await readCheckpoint(out);
    expect(stopped.state.step).toBeGreaterThanOrEqual(1);
    expect(stopped.state.complete).toBe(false);

    const resumed = await run([...common, '--resume', '--max-steps', String(stopped.state.step + 3)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/stopped after --max-steps/);
    const latest = await readCheckpoint(out);
    expect(latest.state.step).toBe(stopped.state.step + 3);
    expect(latest.state.config.sparsity).toBe(1e-4);
    // The final model sits beside the checkpoints, ready for prune and compile.
    expect(await readFile(join(out, 'model.slim'), 'utf8')).toMatch(/^graph mnist_vgg/);
  }, 180_000);

  it('names the split and the mismatch when user data does not fit', async () => {
    const data = join(dir, 'bad_data.mjs');
    await writeFile(
      data,
      `export default { name: 'mine', sampleShape: [28, 28, 1], classes: 10,
        train: { images: new Float32Array(3 * 784), labels: [1, 2] },
        test: { images: new Float32Array(784), labels: [0] } };\n`,
    );
    const r = await run(['train', model, '--data', data, '--epochs', '1', '-o', join(dir, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/slimc: error: dataset 'mine', train split: has 3 images but 2 labels/);
  }, 60_000);

  it('refuses data whose samples do not fit the model input', async () => {
    const data = join(dir, 'small_images.mjs');
    await writeFile(
      data,
      `export default () => ({ name: 'tiny', sampleShape: [8, 8, 1], classes: 10,
        train: { images: new Float32Array(2 * 64), labels: [1, 2] },
        test: { images: new Float32Array(64), labels: [0] } });\n`,
    );
    const r = await run(['train', model, '--data', data, '--epochs', '1', '-o', join(dir, 'bad2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/%x: the model takes samples of shape \[28,28,1\] but dataset 'tiny' has \[8,8,1\]/);
  }, 60_000);
});
