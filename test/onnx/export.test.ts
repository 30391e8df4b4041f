// The exporter: IR graphs written as NCHW ONNX run in onnxruntime-web (wasm, one thread) and give
// slimc's outputs; pruned PyTorch networks handed back to ONNX give PyTorch's masked outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { cost } from '../../src/ir/cost.ts';
import { describeGraphDifference } from '../../src/ir/equal.ts';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { exportOnnx, importOnnx, nchwToNhwc, nhwcToNchw } from '../../src/frontends/onnx/index.ts';
import { decodeModel } from '../../src/frontends/onnx/proto.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { LOWERING_PASSES, lowerGraph } from '../../src/passes/lower/index.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { Rng } from '../../src/util/random.ts';
import { allOpsGraph, graphOf } from '../helpers/all_ops_graph.ts';
import { ALL_FIXTURES, expected, importFixture, PRUNABLE_FIXTURES, relativeError, runOnnxRuntime } from './fixtures.ts';

beforeAll(() => initBackend('wasm'));

/** Runs a fixture's inputs (NCHW, as PyTorch took them) through an exported model. */
async function runFixtureInputs(model: Uint8Array, name: (typeof ALL_FIXTURES)[number]): Promise<Float32Array[]> {
  const e = expected(name);
  const outputs: Float32Array[] = [];
  for (const input of e.inputs) {
    const [logits] = await runOnnxRuntime(model, { input: { data: Float32Array.from(input), dims: e.input_shape } });
    outputs.push(logits);
  }
  return outputs;
}

/**
 * A graph's outputs from slimc's interpreter and from onnxruntime-web on its export, for seeded
 * random inputs (ONNX takes and returns 4-D tensors as NCHW).
 */
async function bothWays(graph: Graph, seed = 1): Promise<{ slimc: Float32Array[]; onnx: Float32Array[] }> {
  const rng = new Rng(seed);
  const inputs = graphInputs(graph).map((n) => ({
    node: n,
    data: rng.fill(
      n.type.shape.reduce((a, b) => a * b, 1),
      () => rng.normal(),
    ),
  }));
  const slimc = await interpret(graph, Object.fromEntries(inputs.map((i) => [i.node.id, i.data])));
  const feeds = Object.fromEntries(
    inputs.map(({ node, data }) => {
      const s = node.type.shape;
      return [node.id, s.length === 4 ? { data: nhwcToNchw(data, s), dims: [s[0], s[3], s[1], s[2]] } : { data, dims: s }];
    }),
  );
  const fromOnnx = await runOnnxRuntime(exportOnnx(graph), feeds);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  // Back to NHWC to compare with slimc.
  const onnx = fromOnnx.map((out, k) => {
    const s = byId.get(graph.outputs[k])?.type.shape ?? [];
    return s.length === 4 ? nchwToNhwc(out, [s[0], s[3], s[1], s[2]]) : out;
  });
  return { slimc, onnx };
}

/** The graph with |v| + 0.5 for each BN variance v (the all-ops graph's weights are normal samples). */
function withPositiveVariances(graph: Graph): Graph {
  const weights = Object.fromEntries(
    Object.entries(graph.weights).map(([name, w]) => [
      name,
      name.endsWith('.var') ? { ...w, data: w.data.map((v) => Math.abs(v) + 0.5) } : w,
    ]),
  );
  return { ...graph, weights };
}

describe('PyTorch networks through slimc and back to ONNX', () => {
  it.each(ALL_FIXTURES)('%s: the exported import gives PyTorch outputs in onnxruntime-web', async (name) => {
    const e = expected(name);
    const outputs = await runFixtureInputs(exportOnnx(importFixture(name).graph), name);
    outputs.forEach((out, k) => expect(relativeError(out, e.full[k])).toBeLessThan(1e-4));
  });

  it.each(PRUNABLE_FIXTURES)('%s: the exported compact graph (ratio 0.5) gives the masked outputs in onnxruntime-web', async (name) => {
    const e = expected(name);
    const { compact } = slimGraph(importFixture(name).graph, { ratio: e.ratio });
    const model = exportOnnx(compact);
    const outputs = await runFixtureInputs(model, name);
    outputs.forEach((out, k) => expect(relativeError(out, e.masked?.[k] ?? [])).toBeLessThan(1e-4));
    // The ONNX model holds exactly the compact graph's parameters.
    expect(cost(importOnnx(model).graph).params).toBe(cost(compact).params);
    expect(cost(compact).params).toBeLessThan(e.torch_params);
  });

  it.each(['preresnet', 'mobilenet', 'selectresnet'] as const)(
    '%s: the lowered compact graph (folded BNs, fused activations, scale_shift) exports too',
    async (name) => {
      const e = expected(name);
      const compact = slimGraph(importFixture(name).graph, { ratio: e.ratio }).compact;
      // Lowering runs NHWC scale_shift as a depthwise conv; stop before that pass as well, so the
      // exporter's scale_shift is exercised too.
      const withScaleShift = LOWERING_PASSES.filter((p) => p.name !== 'scale-shift-to-depthwise').reduce((g, p) => p.run(g), compact);
      for (const lowered of [lowerGraph(compact), withScaleShift]) {
        expect(lowered.nodes.some((n) => n.op === 'conv2d' && n.activation !== 'none')).toBe(true);
        const outputs = await runFixtureInputs(exportOnnx(lowered), name);
        outputs.forEach((out, k) => expect(relativeError(out, e.masked?.[k] ?? [])).toBeLessThan(1e-4));
      }
      if (name === 'preresnet') expect(withScaleShift.nodes.some((n) => n.op === 'scale_shift')).toBe(true);
    },
  );

  it.each(ALL_FIXTURES)('%s: export then import gives back the same graph (names, layouts, weights bit for bit)', (name) => {
    const { graph } = importFixture(name);
    const again = importOnnx(exportOnnx(graph), { name: graph.name }).graph;
    expect(describeGraphDifference(again, graph)).toBeNull();
  });
});

describe('any IR graph as ONNX', () => {
  it('every op, padding kind and fused activation; two inputs, two outputs (one 4-D)', async () => {
    const graph = withPositiveVariances(allOpsGraph());
    const { slimc, onnx } = await bothWays(graph);
    expect(onnx).toHaveLength(2);
    onnx.forEach((out, k) => expect(relativeError(out, slimc[k])).toBeLessThan(1e-5));
    const model = decodeModel(exportOnnx(graph), 'all_ops');
    expect(model.opsetImport).toEqual([{ domain: '', version: 13 }]);
    expect(model.graph?.input.map((i) => i.name)).toEqual(['x', 'in:2']);
    expect(model.graph?.output.map((o) => o.name)).toEqual(['prob "out"', '/features/0/Conv']);
    expect(model.graph?.input[0].type?.tensorType?.shape?.dim).toEqual([
      { dimParam: 'N' },
      { dimValue: 4 },
      { dimValue: 8 },
      { dimValue: 8 },
    ]);
  });

  it('a flatten of a 2x2 map: as Flatten with CHW-ordered dense rows when only dense layers read it, else NHWC-transposed', async () => {
    const graph = graphOf(
      'flattens',
      [
        { op: 'input', id: 'x', type: f32([1, 2, 2, 3]) },
        {
          op: 'conv2d',
          id: 'conv',
          type: f32([0, 0, 0, 4]),
          input: 'x',
          filter: 'conv.w',
          bias: null,
          kernel: [1, 1],
          strides: [1, 1],
          dilations: [1, 1],
          padding: { kind: 'valid' },
          groups: 1,
          activation: 'none',
        },
        { op: 'flatten', id: 'to_dense', input: 'conv' },
        { op: 'dense', id: 'fc', type: f32([0, 5]), input: 'to_dense', weight: 'fc.w', bias: 'fc.b', activation: 'none' },
        { op: 'flatten', id: 'returned', input: 'conv' },
        { op: 'softmax', id: 'prob', input: 'returned' },
      ],
      ['fc', 'prob', 'returned'],
      { 'conv.w': [1, 1, 3, 4], 'fc.w': [16, 5], 'fc.b': [5] },
    );
    const { slimc, onnx } = await bothWays(graph, 3);
    onnx.forEach((out, k) => expect(relativeError(out, slimc[k])).toBeLessThan(1e-5));
    const ops = decodeModel(exportOnnx(graph), 'flattens').graph?.node.map((n) => n.opType);
    expect(ops?.filter((op) => op === 'Transpose')).toHaveLength(1);
    expect(ops?.filter((op) => op === 'Flatten')).toHaveLength(2);
  });

  it('a graph output that is an input goes through an Identity', async () => {
    const graph = graphOf(
      'passthrough',
      [
        { op: 'input', id: 'x', type: f32([1, 6]) },
        { op: 'relu', id: 'r', input: 'x' },
      ],
      ['x', 'r'],
      {},
    );
    const { slimc, onnx } = await bothWays(graph, 5);
    expect(onnx).toHaveLength(2);
    onnx.forEach((out, k) => expect(out).toEqual(slimc[k]));
  });
});
