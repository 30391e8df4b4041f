// sigmoid, the elementwise op added through the op table alone (elementwise.ts, its channel rule,
// its interpreter kernel and its emitter helper): every path a model takes runs it, and each is
// checked against the interpreter (or, for the kernel itself, against 1 / (1 + e^-x)).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCompiled, compileGraph } from '../../src/compiler/compile.ts';
import { add, batchNorm, conv2d, dense, elementwise, flatten, globalAvgPool, model } from '../../src/frontends/dsl.ts';
import { exportOnnx, importOnnx, nhwcToNchw } from '../../src/frontends/onnx/index.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { parseGraph } from '../../src/ir/text/parser.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import type { Graph } from '../../src/ir/types.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { Rng } from '../../src/util/random.ts';
import { scratchDir } from '../codegen/emitted.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { expectGraphsEqual } from '../helpers/graphs.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { runOnnxRuntime } from '../onnx/fixtures.ts';

beforeAll(() => initBackend('wasm'));

/** A residual network with sigmoid gates after its BNs (sigmoid(0) = 0.5: pruned channels are not 0). */
const gated = (): Graph =>
  withSparsityLikeWeights(
    model('gated', { input: [6, 6, 3] }, (x) => {
      const stem = elementwise('sigmoid', batchNorm(conv2d(x, 8, { name: 'stem' })));
      const branch = elementwise('sigmoid', batchNorm(conv2d(stem, 8, { name: 'branch' })));
      return dense(flatten(globalAvgPool(add(branch, stem))), 4, { name: 'fc' });
    }),
    { seed: 3 },
  );

const input = (seed: number, batch = 2) => {
  const rng = new Rng(seed);
  return rng.fill(batch * 6 * 6 * 3, () => 2 * rng.normal());
};

describe('sigmoid', () => {
  it('computes 1 / (1 + e^-x) in the interpreter, and round-trips through the IR text', async () => {
    const g = model('one', { input: [2, 2, 3] }, (x) => elementwise('sigmoid', x));
    const x = input(1, 1).subarray(0, 12);
    const [y] = await interpret(g, { x });
    const cmp = compareOutputs(
      Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v))),
      y,
      1e-6,
    );
    expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff}`).toBe(true);
    expect(printGraph(g)).toContain('%sigmoid1 = sigmoid %x : f32[1,2,2,3]');
    expectGraphsEqual(parseGraph(printGraph(g), g.weights), g);
  });

  it('prunes: the compact graph computes the masked original (constant 0.5 channels fold into the next layer)', async () => {
    const slim = slimGraph(gated(), { ratio: 0.5 });
    expect(slim.compact.nodes.length).toBeGreaterThan(0);
    const x = input(2);
    const [reference] = await interpret(slim.masked, { x });
    const [actual] = await interpret(slim.compact, { x });
    const cmp = compareOutputs(reference, actual);
    expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff} > ${cmp.tolerance}`).toBe(true);
  });

  it('compiles, pruned, to a module that computes what the interpreter does', async () => {
    const graph = gated();
    const dir = await scratchDir('sigmoid');
    try {
      const report = await writeCompiled(compileGraph(graph, { slim: { ratio: 0.5 } }), graph, join(dir, 'out'));
      expect(report.check?.ok, JSON.stringify(report.check)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports to ONNX Sigmoid, which onnxruntime runs to the same outputs, and imports back', async () => {
    const graph = gated();
    const bytes = exportOnnx(graph);
    const x = input(3, 1);
    const [slimc] = await interpret(graph, { x });
    const [onnx] = await runOnnxRuntime(bytes, { x: { data: nhwcToNchw(x, [1, 6, 6, 3]), dims: [1, 3, 6, 6] } });
    const viaOnnx = compareOutputs(slimc, onnx);
    expect(viaOnnx.ok, `max |diff| ${viaOnnx.maxAbsDiff}: ${[...slimc.slice(0, 4)]} vs ${[...onnx.slice(0, 4)]}`).toBe(true);
    const back = importOnnx(bytes).graph;
    expect(back.nodes.filter((n) => n.op === 'sigmoid').length).toBe(2);
    // The interpreter takes NHWC whatever the border layout (the module transposes NCHW at its border).
    const [again] = await interpret(back, { x });
    const back2 = compareOutputs(slimc, again);
    expect(back2.ok, `max |diff| ${back2.maxAbsDiff}: ${[...slimc.slice(0, 4)]} vs ${[...again.slice(0, 4)]}`).toBe(true);
  });
});
