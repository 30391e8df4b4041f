// The ONNX path through the command line, as a PyTorch user takes it: `slimc prune` and
// `slimc export` on .onnx files (in-process through main(), stdout and stderr captured), with the
// written models run in onnxruntime-web against PyTorch's numbers.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadModel } from '../../src/cli/load_model.ts';
import { cost } from '../../src/ir/cost.ts';
import { importOnnxFile, KEEP_BN_EXPORT } from '../../src/frontends/onnx/index.ts';
import { expected, fixturePath, relativeError, runOnnxRuntime } from './fixtures.ts';
import { runMain } from '../helpers/cli.ts';

let dir: string;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimc-onnx-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The fixture's first input through an ONNX model file's bytes. */
async function firstOutput(path: string, name: 'vgg' | 'densenet'): Promise<Float32Array> {
  const e = expected(name);
  const [logits] = await runOnnxRuntime(await readFile(path), { input: { data: Float32Array.from(e.inputs[0]), dims: e.input_shape } });
  return logits;
}

describe('slimc export', () => {
  it('--prune 0.5 writes the compact network as ONNX, giving the masked PyTorch outputs', async () => {
    const { code, stdout, stderr } = await runMain(['export', fixturePath('densenet'), '--prune', '0.5', '-o', at('densenet_pruned.onnx')]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const params = cost(importOnnxFile(at('densenet_pruned.onnx')).graph).params;
    expect(stdout).toContain(`pruned: ${expected('densenet').torch_params} -> ${params} params`);
    expect(stdout).toMatch(/wrote .*densenet_pruned\.onnx: ONNX opset 13, NCHW, 1 input, 1 output/);
    expect(relativeError(await firstOutput(at('densenet_pruned.onnx'), 'densenet'), expected('densenet').masked?.[0] ?? [])).toBeLessThan(
      1e-4,
    );
    // Written through a temporary file renamed into place: nothing else is left behind.
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('slimc prune of an .onnx to .slim, then export of the .slim, gives the masked PyTorch outputs', async () => {
    const pruned = await runMain(['prune', fixturePath('vgg'), '--ratio', '0.5', '-o', at('vgg.slim')]);
    expect(pruned.code).toBe(0);
    const exported = await runMain(['export', at('vgg.slim'), '-o', at('vgg_pruned.onnx')]);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(relativeError(await firstOutput(at('vgg_pruned.onnx'), 'vgg'), expected('vgg').masked?.[0] ?? [])).toBeLessThan(1e-4);
  });

  it('an unsupported model fails with exit code 1, lists its ops, and writes nothing', async () => {
    const { code, stderr } = await runMain(['export', fixturePath('unsupported'), '-o', at('unsupported.onnx')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^slimc: error: .*unsupported\.onnx: the model uses 2 op types slimc does not import/);
    expect(stderr).toContain("Elu (2): '/Elu', '/Elu_1'");
    expect(existsSync(at('unsupported.onnx'))).toBe(false);
  });

  it('an output directory that does not exist is a user error naming the path', async () => {
    const { code, stderr } = await runMain(['export', fixturePath('vgg'), '-o', at('missing/out.onnx')]);
    expect(code).toBe(1);
    expect(stderr).toContain('missing/out.onnx: cannot write the ONNX model: its directory does not exist');
  });

  it('requires -o', async () => {
    const { code, stderr } = await runMain(['export', fixturePath('vgg')]);
    expect(code).toBe(1);
    expect(stderr).toContain("required option '-o, --output <file.onnx>' not specified");
  });
});

describe('loadModel on .onnx', () => {
  it('imports the model and prints the folded-BN warning to stderr', async () => {
    let stderr = '';
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const graph = await loadModel(fixturePath('vgg_folded'));
      expect(graph.layout).toEqual({ input: 'NCHW' });
    } finally {
      err.mockRestore();
    }
    expect(stderr).toMatch(/^slimc: warning: .*vgg_folded\.onnx: the model has 4 convs and no BatchNormalization/);
    expect(stderr).toContain(KEEP_BN_EXPORT);
  });

  it('a truncated .onnx is a user error (exit code 1) naming the file', async () => {
    const bytes = await readFile(fixturePath('vgg'));
    await writeFile(at('truncated.onnx'), bytes.subarray(0, bytes.length >> 1));
    const { code, stderr } = await runMain(['export', at('truncated.onnx'), '-o', at('t.onnx')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^slimc: error: .*truncated\.onnx: not a readable ONNX model: the file is truncated or corrupt/);
  });
});
