// The ONNX importer on PyTorch exports, structurally (no backend): shapes, names, layouts,
// parameter counts against PyTorch's, and the errors and warnings a user can meet.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cost } from '../../src/ir/cost.ts';
import { SlimcError, UnsupportedError } from '../../src/ir/errors.ts';
import type { Graph, NodeOf, Op } from '../../src/ir/types.ts';
import { exportOnnx, importOnnx, importOnnxFile, KEEP_BN_EXPORT } from '../../src/frontends/onnx/index.ts';
import { decodeModel, encodeModel, DataType } from '../../src/frontends/onnx/proto.ts';
import { decodeTensor } from '../../src/frontends/onnx/tensor.ts';
import { foldBatchNorm } from '../../src/passes/lower/index.ts';
import { Rng } from '../../src/util/random.ts';
import { ALL_FIXTURES, expected, fixturePath, importFixture, PRUNABLE_FIXTURES } from './fixtures.ts';

const nodesOf = <O extends Op>(graph: Graph, op: O): NodeOf<O>[] => graph.nodes.filter((n): n is NodeOf<O> => n.op === op);

/** An initializer of a fixture, decoded as ONNX holds it (OIHW, [out, in]). */
function onnxInitializer(name: string, initializer: string) {
  const model = decodeModel(readFileSync(fixturePath(name as 'vgg')), name);
  const t = model.graph?.initializer.find((i) => i.name === initializer);
  if (!t) throw new Error(`no initializer ${initializer}`);
  return decodeTensor(t, initializer);
}

describe('importing PyTorch exports', () => {
  it.each(ALL_FIXTURES)('%s: a verified NHWC graph with an NCHW border, its input and output named as in ONNX', (name) => {
    const { graph, opset } = importFixture(name);
    const e = expected(name);
    expect(opset).toBe(e.opset);
    expect(graph.name).toBe(name);
    expect(graph.layout).toEqual({ input: 'NCHW' });
    const [n, c, h, w] = e.input_shape;
    expect(nodesOf(graph, 'input').map((i) => [i.id, i.type.shape])).toEqual([['input', [n, h, w, c]]]);
    expect(graph.outputs).toEqual(['logits']);
    expect(graph.nodes.find((node) => node.id === 'logits')?.type.shape).toEqual(e.output_shape);
  });

  it.each(PRUNABLE_FIXTURES)('%s: parameters agree with PyTorch (conv/linear weights and biases, BN gamma and beta)', (name) => {
    const e = expected(name);
    // The official channel-selection layer keeps its indexes as nn.Parameter; they are no weights of the network.
    expect(cost(importFixture(name).graph).params).toBe(e.torch_params - e.selection_params);
  });

  it.each(PRUNABLE_FIXTURES)('%s: every BN survives, named after its PyTorch module', (name) => {
    const { graph } = importFixture(name);
    const e = expected(name);
    const params = nodesOf(graph, 'batch_norm').map((bn) => bn.params);
    expect(params.length).toBe(e.bn_nodes);
    expect(params.sort()).toEqual(Object.keys(e.kept_channels ?? {}).sort());
  });

  it('keeps ONNX node names as value ids and initializer names as weight names', () => {
    const { graph } = importFixture('vgg');
    const conv = graph.nodes.find((n) => n.id === '/feature/feature.0/Conv');
    expect(conv).toMatchObject({
      op: 'conv2d',
      filter: 'feature.0.weight',
      bias: null,
      padding: { kind: 'explicit', top: 1, bottom: 1, left: 1, right: 1 },
    });
    expect(graph.nodes.find((n) => n.id === '/feature/feature.1/BatchNormalization')).toMatchObject({
      op: 'batch_norm',
      params: 'feature.1',
    });
    expect(Object.keys(graph.weights)).toEqual(
      expect.arrayContaining([
        'feature.1.gamma',
        'feature.1.beta',
        'feature.1.mean',
        'feature.1.var',
        'classifier.weight',
        'classifier.bias',
      ]),
    );
  });

  it('converts conv filters from OIHW to HWIO', () => {
    const { graph } = importFixture('vgg');
    const onnx = onnxInitializer('vgg', 'feature.3.weight');
    expect(onnx.dims).toEqual([8, 8, 3, 3]);
    const hwio = graph.weights['feature.3.weight'];
    expect(hwio.shape).toEqual([3, 3, 8, 8]);
    for (const [o, i, y, x] of [
      [0, 0, 0, 0],
      [5, 2, 1, 0],
      [7, 6, 2, 1],
      [3, 7, 0, 2],
    ]) {
      expect(hwio.data[((y * 3 + x) * 8 + i) * 8 + o]).toBe(onnx.data[((o * 8 + i) * 3 + y) * 3 + x]);
    }
  });

  it('reorders the rows of the Linear after a 16x2x2 flatten from CHW to HWC (the IR flattens NHWC)', () => {
    const { graph } = importFixture('vgg');
    const onnx = onnxInitializer('vgg', 'classifier.weight');
    expect(onnx.dims).toEqual([10, 64]);
    const dense = graph.weights['classifier.weight'];
    expect(dense.shape).toEqual([64, 10]);
    for (const [c, h, w, out] of [
      [0, 0, 1, 0],
      [5, 1, 0, 3],
      [15, 1, 1, 9],
      [9, 0, 0, 4],
    ]) {
      const irRow = (h * 2 + w) * 16 + c;
      const onnxColumn = (c * 2 + h) * 2 + w;
      expect(dense.data[irRow * 10 + out]).toBe(onnx.data[out * 64 + onnxColumn]);
    }
  });

  it('folds the Shape/Gather/Unsqueeze/Concat chain of x.view(x.size(0), -1) (dynamic batch) into a flatten', () => {
    const { graph } = importFixture('preresnet');
    expect(nodesOf(graph, 'input')[0].type.shape).toEqual([1, 16, 16, 3]);
    expect(nodesOf(graph, 'flatten')).toHaveLength(1);
    expect(nodesOf(graph, 'gather')).toHaveLength(0);
    // PyTorch's Pad with all-zero pads in front of the 8x8 average pool disappears.
    expect(nodesOf(graph, 'avg_pool')).toMatchObject([{ kernel: [8, 8], padding: { kind: 'valid' } }]);
  });

  it("maps the official channel selection (Gather on axis 1 with constant indices) to the IR's gather", () => {
    const { graph } = importFixture('selectresnet');
    const model = decodeModel(readFileSync(fixturePath('selectresnet')), 'selectresnet');
    const constants = new Map((model.graph?.node ?? []).filter((n) => n.opType === 'Constant').map((n) => [n.output[0], n]));
    const onnxIndices = (model.graph?.node ?? [])
      .filter((n) => n.opType === 'Gather')
      .map((n) => [
        ...decodeTensor(
          constants.get(n.input[1])?.attribute[0].t ?? { dims: [], floatData: [], int32Data: [], int64Data: [], doubleData: [] },
          'indices',
        ).data,
      ]);
    const gathers = nodesOf(graph, 'gather');
    expect(gathers.map((g) => g.indices.length)).toEqual([12, 10, 24]);
    expect(gathers.map((g) => [...g.indices])).toEqual(onnxIndices);
    expect(gathers[0].id).toBe('/layer1/select/Gather');
  });

  it('imports depthwise convs, ReLU6 as Clip, and Pad + AveragePool(count_include_pad) as one padded average pool', () => {
    const { graph } = importFixture('mobilenet');
    const depthwise = nodesOf(graph, 'conv2d').filter((c) => c.groups > 1);
    expect(depthwise.map((c) => [c.groups, graph.weights[c.filter].shape])).toEqual([
      [8, [3, 3, 1, 8]],
      [16, [3, 3, 1, 16]],
      [16, [3, 3, 1, 16]],
    ]);
    expect(depthwise.map((c) => c.strides)).toEqual([
      [2, 2],
      [1, 1],
      [2, 2],
    ]);
    expect(nodesOf(graph, 'relu6')).toHaveLength(7);
    expect(nodesOf(graph, 'avg_pool')).toMatchObject([
      {
        id: '/smooth/AveragePool',
        kernel: [3, 3],
        strides: [1, 1],
        padding: { kind: 'explicit', top: 1, bottom: 1, left: 1, right: 1 },
        countIncludePad: true,
      },
    ]);
  });

  it("keeps AveragePool's own pads with count_include_pad=0, and MaxPool's pads", () => {
    expect(nodesOf(importFixture('vgg').graph, 'avg_pool')).toMatchObject([
      { kernel: [3, 3], strides: [2, 2], padding: { kind: 'explicit', top: 1, bottom: 1, left: 1, right: 1 }, countIncludePad: false },
    ]);
    expect(nodesOf(importFixture('postresnet').graph, 'max_pool')).toMatchObject([
      { kernel: [3, 3], strides: [2, 2], padding: { kind: 'explicit', top: 1, bottom: 1, left: 1, right: 1 } },
    ]);
  });

  it('reads float_data initializers as it reads raw_data ones', () => {
    const bytes = readFileSync(fixturePath('vgg'));
    const model = decodeModel(bytes, 'vgg.onnx');
    for (const t of model.graph?.initializer ?? []) {
      if (t.dataType !== DataType.FLOAT) continue;
      const { data } = decodeTensor(t, t.name ?? '');
      t.floatData = [...data];
      delete t.rawData;
    }
    const rewritten = encodeModel(model);
    const stored = decodeModel(rewritten, 'vgg.onnx').graph?.initializer.filter((t) => t.dataType === DataType.FLOAT) ?? [];
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((t) => t.floatData.length > 0 && (t.rawData?.length ?? 0) === 0)).toBe(true);
    const fromFloatData = importOnnx(rewritten, { file: 'vgg.onnx' }).graph;
    const fromRawData = importFixture('vgg').graph;
    expect(Object.keys(fromFloatData.weights).sort()).toEqual(Object.keys(fromRawData.weights).sort());
    for (const [name, w] of Object.entries(fromRawData.weights)) expect(fromFloatData.weights[name].data).toEqual(w.data);
  });
});

describe('errors a user can meet', () => {
  it('lists every unsupported op type with the names of its nodes, in one error', () => {
    let error: unknown;
    try {
      importFixture('unsupported');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedError);
    const message = (error as Error).message;
    expect(message).toContain('unsupported.onnx');
    expect(message).toContain('2 op types slimc does not import, in 3 nodes');
    expect(message).toContain("LeakyRelu (1): '/LeakyRelu'");
    expect(message).toContain("Elu (2): '/Elu', '/Elu_1'");
    expect(message).toMatch(/slimc imports: .*BatchNormalization.*Conv/);
  });

  const bytes = readFileSync(fixturePath('vgg'));
  it.each([1, 100, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 100, bytes.length - 1])(
    'a file truncated to %i bytes is a SlimcError naming the file, not a decoder crash',
    (length) => {
      expect(() => importOnnx(bytes.subarray(0, length), { file: 'models/vgg.onnx' })).toThrow(SlimcError);
      expect(() => importOnnx(bytes.subarray(0, length), { file: 'models/vgg.onnx' })).toThrow(/^models\/vgg\.onnx: /);
    },
  );

  it.each([1, 2, 3])('random bytes (seed %i) are a SlimcError naming the file', (seed) => {
    const rng = new Rng(seed);
    const garbage = Uint8Array.from({ length: 4096 }, () => rng.int(0, 255));
    expect(() => importOnnx(garbage, { file: 'garbage.onnx' })).toThrow(SlimcError);
    expect(() => importOnnx(garbage, { file: 'garbage.onnx' })).toThrow(/^garbage\.onnx: /);
  });

  it('an empty file and a text file are SlimcErrors', () => {
    expect(() => importOnnx(new Uint8Array(0), { file: 'empty.onnx' })).toThrow(/^empty\.onnx: not an ONNX model with a graph/);
    const text = new TextEncoder().encode('graph vgg(%x: f32[1,32,32,3]) -> (%y: f32[1,10]) {\n}\n');
    expect(() => importOnnx(text, { file: 'model.slim.onnx' })).toThrow(SlimcError);
  });

  it('a missing file is a SlimcError naming it', () => {
    expect(() => importOnnxFile('no/such/model.onnx')).toThrow(/^no\/such\/model\.onnx: cannot read the file: /);
  });
});

describe('BN-folded exports', () => {
  it('warn with the export settings that keep the BNs, and still import', () => {
    const { graph, warnings } = importFixture('vgg_folded');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('vgg_folded.onnx');
    expect(warnings[0]).toContain('no BatchNormalization');
    expect(warnings[0]).toContain(KEEP_BN_EXPORT);
    expect(KEEP_BN_EXPORT).toContain('training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False');
    expect(nodesOf(graph, 'batch_norm')).toHaveLength(0);
    const convs = nodesOf(graph, 'conv2d');
    expect(convs.every((c) => c.bias !== null)).toBe(true);
    // Each BN channel's gamma and beta (2 parameters in PyTorch's count) became one conv bias.
    const biasChannels = convs.reduce((sum, c) => sum + c.type.shape[3], 0);
    expect(cost(graph).params).toBe(expected('vgg_folded').torch_params - biasChannels);
  });

  it('warn when some convs lost their BNs while others kept them, naming those convs', () => {
    // Folding conv -> BN pairs of a pre-activation ResNet leaves the BNs after residual adds, as
    // an eval-mode export does.
    const folded = foldBatchNorm(importFixture('preresnet').graph);
    const remaining = nodesOf(folded, 'batch_norm').length;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(expected('preresnet').bn_nodes);
    const { warnings } = importOnnx(exportOnnx(folded), { file: 'preresnet_folded.onnx' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^preresnet_folded\.onnx: 3 of 8 convs have a bias and no BatchNormalization after them \('\/blocks\/blocks\.0\/conv1\/Conv'/,
    );
    expect(warnings[0]).toContain(KEEP_BN_EXPORT);
  });

  it.each(PRUNABLE_FIXTURES)('%s, exported with BNs kept, gives no warning', (name) => {
    expect(importFixture(name).warnings).toEqual([]);
  });
});
