// `slimc inspect`: in-process through main() (stdout and stderr captured), and as a real
// subprocess of bin/slimc.js for the exit codes a shell sees.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import resnet56 from '../../examples/resnet56.ts';
import { cost } from '../../src/ir/cost.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import { writeWeightsFile } from '../../src/ir/weights_file_io.ts';
import { allOpsGraph } from '../helpers/graphs.ts';
import { runMain } from '../helpers/cli.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
const at = (name: string) => join(dir, name);
const ALL_OPS_TEXT = printGraph(allOpsGraph());
/** Where broken.slim misspells an op: the line of %grouped, the column of its op. */
const BROKEN_AT = `${ALL_OPS_TEXT.split('\n').findIndex((l) => l.startsWith('  %grouped = conv2d')) + 1}:14`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimc-inspect-'));
  await writeFile(at('all_ops.slim'), ALL_OPS_TEXT);
  await writeWeightsFile(at('all_ops.weights.bin'), allOpsGraph().weights);
  await writeWeightsFile(at('elsewhere.bin'), allOpsGraph().weights);
  // The IR text with one op misspelled.
  await writeFile(at('broken.slim'), ALL_OPS_TEXT.replace('%grouped = conv2d', '%grouped = conv3d'));
  await writeWeightsFile(at('broken.weights.bin'), allOpsGraph().weights);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('slimc inspect (in process)', () => {
  it('prints the IR, a per-layer table with totals, and the counting convention', async () => {
    const { code, stdout, stderr } = await runMain(['inspect', 'examples/resnet56.ts']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const graph = resnet56();
    const figures = cost(graph);
    expect(stdout.startsWith(printGraph(graph))).toBe(true);
    const lines = stdout.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^value +op +output shape +params +MACs$/));
    expect(lines).toContainEqual(expect.stringMatching(/^%layer1\.0\.conv1 +conv2d +\[1,32,32,16\] +2,304 +2,359,296$/));
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^total +${figures.params.toLocaleString('en-US')} +${figures.macs.toLocaleString('en-US')}$`)),
    );
    expect(stdout).toContain(`resnet56: ${figures.params.toLocaleString('en-US')} params, ${figures.macs.toLocaleString('en-US')} MACs`);
    expect(stdout).toContain('FLOPs = 2 x MACs');
    // One row per node between the header rule and the totals rule.
    const rules = lines.flatMap((l, i) => (/^-+( +-+)+$/.test(l) ? [i] : []));
    expect(rules[1] - rules[0] - 1).toBe(graph.nodes.length);
  });

  it('--no-ir prints only the table and the totals', async () => {
    const { code, stdout } = await runMain(['inspect', 'examples/resnet56.ts', '--no-ir']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('graph resnet56');
    expect(stdout.startsWith('value ')).toBe(true);
  });

  it('--json prints one object whose layers add up to the totals', async () => {
    const { code, stdout } = await runMain(['inspect', 'examples/resnet56.ts', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      name: string;
      inputs: { name: string; shape: number[] }[];
      outputs: { name: string; shape: number[] }[];
      params: number;
      macs: number;
      flops: number;
      layers: { value: string; op: string; shape: number[]; params: number; macs: number }[];
    };
    const figures = cost(resnet56());
    expect(report).toMatchObject({
      name: 'resnet56',
      inputs: [{ name: 'x', shape: [1, 32, 32, 3] }],
      outputs: [{ name: 'fc', shape: [1, 10] }],
      params: figures.params,
      macs: figures.macs,
      flops: 2 * figures.macs,
    });
    expect(report.layers).toHaveLength(resnet56().nodes.length);
    expect(report.layers.reduce((s, l) => s + l.params, 0)).toBe(report.params);
    expect(report.layers.reduce((s, l) => s + l.macs, 0)).toBe(report.macs);
    expect(report.layers[1]).toEqual({ value: 'conv1', op: 'conv2d', shape: [1, 32, 32, 16], params: 432, macs: 442_368 });
  });

  it('a .slim model with its weights beside it, or given by --weights; quoted names in the table', async () => {
    const beside = await runMain(['inspect', at('all_ops.slim')]);
    expect(beside.code).toBe(0);
    expect(beside.stdout.startsWith(ALL_OPS_TEXT)).toBe(true);
    expect(beside.stdout).toMatch(/^%"\/features\/0\/Conv" +conv2d +\[1,8,8,8\] +296 +18,432$/m);
    await writeFile(at('moved.slim'), ALL_OPS_TEXT);
    const given = await runMain(['inspect', at('moved.slim'), '--weights', at('elsewhere.bin')]);
    expect(given.stdout).toBe(beside.stdout);
  });

  it('a missing file: exit 1, the file named, no stack trace', async () => {
    const { code, stdout, stderr } = await runMain(['inspect', 'examples/nope.ts']);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toBe('slimc: error: examples/nope.ts: cannot read the model file: file not found\n');
  });

  it('malformed IR: exit 1 with file:line:col', async () => {
    const { code, stderr } = await runMain(['inspect', at('broken.slim')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^slimc: error: ${at('broken.slim')}:${BROKEN_AT}: unknown op 'conv3d' \\(known ops: `));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing argument is a usage error: exit 1', async () => {
    const { code, stderr } = await runMain(['inspect']);
    expect(code).toBe(1);
    expect(stderr).toContain("error: missing required argument 'model'");
  });

  it("a failure inside slimc (not the user's input) is an internal error: exit 2", async () => {
    vi.resetModules();
    vi.doMock('../../src/ir/cost.ts', () => ({
      cost: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'shape')");
      },
    }));
    try {
      const fresh = await import('../../src/cli/main.ts');
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const code = await fresh.main(['inspect', 'examples/resnet56.ts', '--no-ir']);
      const stderr = err.mock.calls.map((c) => String(c[0])).join('');
      err.mockRestore();
      expect(code).toBe(2);
      expect(stderr).toBe(
        "slimc: internal error: Cannot read properties of undefined (reading 'shape')\nRun again with --verbose for the stack trace.\n",
      );
    } finally {
      vi.doUnmock('../../src/ir/cost.ts');
      vi.resetModules();
    }
  });
});

describe('bin/slimc.js inspect (subprocess)', () => {
  const slimc = (...args: string[]) => spawnSync(process.execPath, ['bin/slimc.js', 'inspect', ...args], { cwd: repo, encoding: 'utf8' });

  it("exit 0: VGG-19 has the paper's 20.04M params and 398M MACs (7.96e8 FLOPs)", () => {
    const { status, stdout, stderr } = slimc('examples/vgg19.ts', '--no-ir');
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout).toMatch(/^total +20,035,018 +398,136,320$/m);
    expect(stdout).toContain('vgg19: 20,035,018 params, 398,136,320 MACs, 7.96e8 FLOPs');
  });

  it('exit 1: a missing file and malformed IR, named, without a stack trace', () => {
    const missing = slimc('examples/nope.ts');
    expect({ status: missing.status, stderr: missing.stderr }).toEqual({
      status: 1,
      stderr: 'slimc: error: examples/nope.ts: cannot read the model file: file not found\n',
    });
    const broken = slimc(at('broken.slim'));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`^slimc: error: ${at('broken.slim')}:${BROKEN_AT}: unknown op 'conv3d'`));
    expect(broken.stderr).not.toMatch(/\n\s+at /);
  });
});
