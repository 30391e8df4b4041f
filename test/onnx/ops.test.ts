// Importer paths PyTorch's fixtures do not take, on hand-built ONNX models: onnxruntime-web runs
// each model as it is, slimc imports and interprets it, and the outputs must agree. Then the
// errors for ops used in ways slimc does not support, each naming its node.
import { beforeAll, describe, expect, it } from 'vitest';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph, NodeOf, Op } from '../../src/ir/types.ts';
import { importOnnx, nchwToNhwc, nhwcToNchw } from '../../src/frontends/onnx/index.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { relativeError, runOnnxRuntime } from './fixtures.ts';
import { floats, ints, onnxModel, type NodeSpec } from './onnx_builder.ts';

beforeAll(() => initBackend('wasm'));

const nodesOf = <O extends Op>(graph: Graph, op: O): NodeOf<O>[] => graph.nodes.filter((n): n is NodeOf<O> => n.op === op);

/** Imports `model`, runs it in slimc and in onnxruntime-web on seeded inputs, and expects the same outputs. */
async function expectAgreement(model: Uint8Array, seed = 1): Promise<{ graph: Graph; warnings: readonly string[] }> {
  const imported = importOnnx(model, { file: 'handmade.onnx' });
  const { graph } = imported;
  const rng = new Rng(seed);
  const inputs = graphInputs(graph).map((node) => {
    const s = node.type.shape;
    const onnxDims = s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s];
    return {
      node,
      onnxDims,
      data: rng.fill(
        s.reduce((a, b) => a * b, 1),
        () => rng.normal(),
      ),
    };
  });
  const fromOrt = await runOnnxRuntime(model, Object.fromEntries(inputs.map((i) => [i.node.id, { data: i.data, dims: i.onnxDims }])));
  const fromSlimc = await interpret(
    graph,
    Object.fromEntries(inputs.map((i) => [i.node.id, i.onnxDims.length === 4 ? nchwToNhwc(i.data, i.onnxDims) : i.data])),
  );
  const types = new Map(graph.nodes.map((n) => [n.id, n.type.shape]));
  expect(fromSlimc).toHaveLength(fromOrt.length);
  fromSlimc.forEach((out, k) => {
    const s = types.get(graph.outputs[k]) ?? [];
    const asOnnx = s.length === 4 ? nhwcToNchw(out, s) : out;
    expect(relativeError(asOnnx, fromOrt[k])).toBeLessThan(1e-5);
  });
  return imported;
}

describe('hand-built ONNX models agree with onnxruntime-web', () => {
  it('MatMul + Add becomes one dense with its bias; Softmax (opset 13, axis -1)', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', ['batch', 12]]],
      outputs: ['prob'],
      nodes: [
        { op: 'MatMul', name: 'fc/MatMul', inputs: ['x', 'fc.weight'], outputs: ['m'] },
        { op: 'Add', name: 'fc/Add', inputs: ['m', 'fc.bias'], outputs: ['y'] },
        { op: 'Softmax', inputs: ['y'], outputs: ['prob'], attributes: { axis: { i: -1 } } },
      ],
      initializers: [floats('fc.weight', [12, 5], { seed: 2 }), floats('fc.bias', [5], { seed: 3 })],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'dense')).toMatchObject([{ id: 'fc/MatMul', weight: 'fc.weight', bias: 'fc.bias' }]);
    expect(nodesOf(graph, 'scale_shift')).toHaveLength(0);
    expect(graph.outputs).toEqual(['prob']);
  });

  it('input normalisation (Sub, Div by per-channel constants), Conv with auto_pad SAME_UPPER, Mul by a scalar', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 3, 7, 7]]],
      outputs: ['y'],
      nodes: [
        { op: 'Sub', inputs: ['x', 'mean'], outputs: ['centred'] },
        { op: 'Div', inputs: ['centred', 'std'], outputs: ['normal'] },
        { op: 'Conv', inputs: ['normal', 'w'], outputs: ['c'], attributes: { auto_pad: { s: 'SAME_UPPER' }, strides: { ints: [2, 2] } } },
        { op: 'Mul', inputs: ['half', 'c'], outputs: ['scaled'] },
        { op: 'Relu', inputs: ['scaled'], outputs: ['y'] },
      ],
      initializers: [
        floats('mean', [1, 3, 1, 1], [0.5, -0.2, 0.1]),
        floats('std', [1, 3, 1, 1], [0.25, 0.5, 2]),
        floats('w', [4, 3, 3, 3], { seed: 4 }),
        floats('half', [], [0.5]),
      ],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'scale_shift')).toHaveLength(3);
    expect(nodesOf(graph, 'conv2d')).toMatchObject([{ padding: { kind: 'same' }, strides: [2, 2], kernel: [3, 3] }]);
  });

  it('Conv with auto_pad SAME_LOWER, VALID with dilations, and groups', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 4, 6, 6]]],
      outputs: ['b'],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w1', 'b1'],
          outputs: ['a'],
          attributes: { auto_pad: { s: 'SAME_LOWER' }, strides: { ints: [2, 2] }, group: { i: 2 } },
        },
        {
          op: 'Conv',
          inputs: ['a', 'w2'],
          outputs: ['b'],
          attributes: { auto_pad: { s: 'VALID' }, dilations: { ints: [2, 1] }, kernel_shape: { ints: [2, 2] } },
        },
      ],
      initializers: [floats('w1', [6, 2, 3, 3], { seed: 5 }), floats('b1', [6], { seed: 6 }), floats('w2', [3, 6, 2, 2], { seed: 7 })],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'conv2d')).toMatchObject([
      { groups: 2, padding: { kind: 'explicit', top: 1, bottom: 0, left: 1, right: 0 } },
      { dilations: [2, 1], padding: { kind: 'valid' } },
    ]);
  });

  it('ReduceMean over H and W (keepdims=0), Gemm with transB=0, alpha and beta', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [2, 6, 4, 4]]],
      outputs: ['y'],
      nodes: [
        { op: 'ReduceMean', inputs: ['x'], outputs: ['pooled'], attributes: { axes: { ints: [-1, 2] }, keepdims: { i: 0 } } },
        { op: 'Gemm', inputs: ['pooled', 'w', 'c'], outputs: ['y'], attributes: { alpha: { f: 0.5 }, beta: { f: 2 } } },
      ],
      initializers: [floats('w', [6, 5], { seed: 8 }), floats('c', [1, 5], { seed: 9 })],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'input')[0].type.shape).toEqual([2, 4, 4, 6]);
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'global_avg_pool', 'flatten', 'dense']);
  });

  it('opset 18: Pad with an axes input in front of a Conv, ReduceMean with an axes input', async () => {
    const model = onnxModel({
      opset: 18,
      inputs: [['x', [1, 2, 5, 5]]],
      outputs: ['y'],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads', '', 'axes'], outputs: ['padded'] },
        { op: 'Conv', inputs: ['padded', 'w'], outputs: ['c'], attributes: { pads: { ints: [1, 0, 0, 1] } } },
        { op: 'ReduceMean', inputs: ['c', 'mean_axes'], outputs: ['m'] },
        { op: 'Flatten', inputs: ['m'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fc', 'fc_b'], outputs: ['y'], attributes: { transB: { i: 1 } } },
      ],
      initializers: [
        ints('pads', [1, 2, 2, 1]),
        ints('axes', [2, 3]),
        floats('w', [3, 2, 3, 3], { seed: 10 }),
        ints('mean_axes', [2, 3]),
        floats('fc', [4, 3], { seed: 11 }),
        floats('fc_b', [4], { seed: 12 }),
      ],
    });
    const { graph } = await expectAgreement(model);
    // The Pad's top 1, left 2, bottom 2, right 1 and the conv's own top 1, right 1.
    expect(nodesOf(graph, 'conv2d')).toMatchObject([{ padding: { kind: 'explicit', top: 2, bottom: 2, left: 2, right: 2 } }]);
  });

  it('a flatten of a 2x2 map read by BatchNorm1d + Gemm, by a Gather, and returned through a Softmax', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 3, 2, 2]]],
      outputs: ['logits', 'prob', 'picked'],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { kernel_shape: { ints: [1, 1] } } },
        { op: 'Flatten', inputs: ['c'], outputs: ['flat'] },
        {
          op: 'BatchNormalization',
          name: 'bn1d',
          inputs: ['flat', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'],
          outputs: ['bn'],
        },
        { op: 'Relu', inputs: ['bn'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'fc', 'fc_b'], outputs: ['logits'], attributes: { transB: { i: 1 } } },
        { op: 'Softmax', inputs: ['flat'], outputs: ['prob'], attributes: { axis: { i: 1 } } },
        { op: 'Gather', inputs: ['flat', 'indices'], outputs: ['picked'], attributes: { axis: { i: 1 } } },
      ],
      initializers: [
        floats('w', [4, 3, 1, 1], { seed: 13 }),
        floats('bn.weight', [16], { seed: 14 }),
        floats('bn.bias', [16], { seed: 15 }),
        floats('bn.running_mean', [16], { seed: 16 }),
        floats('bn.running_var', [16], { seed: 17, scale: 0.1, offset: 1 }),
        floats('fc', [5, 16], { seed: 18 }),
        floats('fc_b', [5], { seed: 19 }),
        ints('indices', [3, 0, 9, -1]),
      ],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'batch_norm')).toMatchObject([{ params: 'bn' }]);
    // The Gather selects by where each ONNX feature lives; only the returned softmax needs a
    // gather putting its features back in PyTorch's CHW order (named after the graph output).
    expect(nodesOf(graph, 'gather').map((g) => [g.id, g.input])).toEqual([
      ['picked', 'Flatten_1'],
      ['prob', 'Softmax_5'],
    ]);
  });

  it('opset 10: Clip bounds as attributes, Dropout, Identity, Sum of three, Squeeze and Cast; the opset is flagged', async () => {
    const model = onnxModel({
      opset: 10,
      inputs: [['x', [1, 3, 4, 4]]],
      outputs: ['y'],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { pads: { ints: [1, 1, 1, 1] } } },
        { op: 'Clip', inputs: ['c'], outputs: ['r6'], attributes: { min: { f: 0 }, max: { f: 6 } } },
        { op: 'Dropout', inputs: ['r6'], outputs: ['d', 'mask'] },
        { op: 'Identity', inputs: ['d'], outputs: ['i'] },
        { op: 'Sum', inputs: ['i', 'c', 'r6'], outputs: ['s'] },
        { op: 'GlobalAveragePool', inputs: ['s'], outputs: ['g'] },
        { op: 'Squeeze', inputs: ['g'], outputs: ['sq'], attributes: { axes: { ints: [2, 3] } } },
        { op: 'Cast', inputs: ['sq'], outputs: ['cast'], attributes: { to: { i: 1 } } },
        { op: 'Gemm', inputs: ['cast', 'fc', 'fc_b'], outputs: ['y'], attributes: { transB: { i: 1 } } },
      ],
      initializers: [floats('w', [5, 3, 3, 3], { seed: 20 }), floats('fc', [2, 5], { seed: 21 }), floats('fc_b', [2], { seed: 23 })],
    });
    const { graph, warnings } = await expectAgreement(model);
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'conv2d', 'relu6', 'add', 'global_avg_pool', 'flatten', 'dense']);
    expect(warnings).toEqual([
      'handmade.onnx: opset 10 is outside the opsets slimc is tested with (11 to 18)',
      expect.stringContaining('no BatchNormalization'),
    ]);
  });

  it('Transpose(perm=[0,2,3,1]) + Reshape([0, -1]) is the IR flatten itself', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 3, 3, 2]]],
      outputs: ['y'],
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: { ints: [0, 2, 3, 1] } } },
        { op: 'Reshape', inputs: ['t', 'shape'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'fc'], outputs: ['y'], attributes: { transB: { i: 1 } } },
      ],
      initializers: [ints('shape', [0, -1]), floats('fc', [4, 18], { seed: 22 })],
    });
    const { graph } = await expectAgreement(model);
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'flatten', 'dense']);
  });

  it('MaxPool with ceil_mode=1 keeps the last partial window', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 2, 5, 5]]],
      outputs: ['y'],
      nodes: [
        {
          op: 'MaxPool',
          inputs: ['x'],
          outputs: ['y'],
          attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } },
        },
      ],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'max_pool')[0].type.shape).toEqual([1, 3, 3, 2]);
  });

  it.each([11, 13])(
    'opset %i: Split of channels (sizes as attribute, then input), Slice with negative ends and a step: gathers',
    async (opset) => {
      const split: Omit<NodeSpec, 'outputs'> =
        opset < 13
          ? { op: 'Split', inputs: ['c'], attributes: { axis: { i: 1 }, split: { ints: [2, 4] } } }
          : { op: 'Split', inputs: ['c', 'sizes'], attributes: { axis: { i: 1 } } };
      const model = onnxModel({
        opset,
        inputs: [['x', [1, 6, 3, 3]]],
        outputs: ['a', 'b', 'odd'],
        nodes: [
          { op: 'Relu', inputs: ['x'], outputs: ['c'] },
          { ...split, outputs: ['a', 'b'] },
          { op: 'Slice', inputs: ['c', 'starts', 'ends', 'axes', 'steps'], outputs: ['odd'] },
        ],
        initializers: [
          ...(opset < 13 ? [] : [ints('sizes', [2, 4])]),
          ints('starts', [1, 0]),
          ints('ends', [-1, 9]),
          ints('axes', [1, 3]),
          ints('steps', [2, 1]),
        ],
      });
      const { graph } = await expectAgreement(model);
      expect(nodesOf(graph, 'gather').map((n) => n.indices)).toEqual([
        [0, 1],
        [2, 3, 4, 5],
        [1, 3],
      ]);
    },
  );

  it('Mul(x, Sigmoid(x)) is silu, HardSigmoid then Mul by x is hard_swish, Mul by a [N, C, 1, 1] gate in either order is mul', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 4, 3, 3]]],
      outputs: ['y'],
      nodes: [
        { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
        { op: 'Mul', inputs: ['s', 'x'], outputs: ['swish'] },
        { op: 'HardSigmoid', inputs: ['swish'], outputs: ['hs'], attributes: { alpha: { f: 1 / 6 }, beta: { f: 0.5 } } },
        { op: 'Mul', inputs: ['swish', 'hs'], outputs: ['hswish'] },
        { op: 'GlobalAveragePool', inputs: ['hswish'], outputs: ['pooled'] },
        { op: 'Sigmoid', inputs: ['pooled'], outputs: ['gate'] },
        { op: 'Mul', inputs: ['gate', 'hswish'], outputs: ['gated'] },
        { op: 'Mul', inputs: ['gated', 'gate'], outputs: ['y'] },
      ],
    });
    const { graph } = await expectAgreement(model);
    expect(graph.nodes.map((n) => n.op)).toEqual(['input', 'silu', 'hard_swish', 'global_avg_pool', 'sigmoid', 'mul', 'mul']);
    // The full-size operand first, the gate second, whichever order ONNX had.
    const shapes = new Map(graph.nodes.map((n) => [n.id, n.type.shape]));
    expect(nodesOf(graph, 'mul').map((n) => n.inputs.map((v) => shapes.get(v)))).toEqual([
      [
        [1, 3, 3, 4],
        [1, 1, 1, 4],
      ],
      [
        [1, 3, 3, 4],
        [1, 1, 1, 4],
      ],
    ]);
  });

  it('a channel shuffle in 3 groups (Reshape, Transpose, Reshape) is one gather', async () => {
    const model = onnxModel({
      opset: 13,
      inputs: [['x', [1, 6, 2, 2]]],
      outputs: ['y'],
      nodes: [
        { op: 'Reshape', inputs: ['x', 'grouped'], outputs: ['g'] },
        { op: 'Transpose', inputs: ['g'], outputs: ['t'], attributes: { perm: { ints: [0, 2, 1, 3, 4] } } },
        { op: 'Reshape', inputs: ['t', 'back'], outputs: ['y'] },
      ],
      initializers: [ints('grouped', [1, 3, 2, 2, 2]), ints('back', [1, -1, 2, 2])],
    });
    const { graph } = await expectAgreement(model);
    expect(nodesOf(graph, 'gather').map((n) => n.indices)).toEqual([[0, 2, 4, 1, 3, 5]]);
  });
});

describe('ops used in ways slimc does not support: errors naming the node', () => {
  const single = (
    node: { op: string; inputs: string[]; attributes?: Record<string, { i: number } | { f: number } | { ints: number[] }> },
    initializers = [ints('idx', [0, 1])],
    opset = 13,
  ) =>
    onnxModel({
      opset,
      inputs: [['x', [1, 2, 4, 4]]],
      outputs: ['y'],
      nodes: [{ op: node.op, name: 'the_node', inputs: node.inputs, outputs: ['y'], attributes: node.attributes }],
      initializers,
    });

  it.each([
    [
      'Gather on axis 2',
      single({ op: 'Gather', inputs: ['x', 'idx'], attributes: { axis: { i: 2 } } }),
      /Gather 'the_node': Gather on axis 2 of a computed tensor is not supported/,
    ],
    [
      'Softmax over C, H and W (opset 11)',
      single({ op: 'Softmax', inputs: ['x'], attributes: { axis: { i: 1 } } }, [], 11),
      /Softmax 'the_node': softmax over axis 1 of a rank-4 tensor is not supported/,
    ],
    [
      'Clip(-1, 1)',
      single({ op: 'Clip', inputs: ['x', 'lo', 'hi'] }, [floats('lo', [], [-1]), floats('hi', [], [1])]),
      /Clip 'the_node': Clip\(min=-1, max=1\) is not supported/,
    ],
    ['Div of two tensors', single({ op: 'Div', inputs: ['x', 'x'] }), /Div 'the_node': Div of two computed tensors is not supported/],
    [
      "HardSigmoid with ONNX's default alpha",
      single({ op: 'HardSigmoid', inputs: ['x'] }),
      /HardSigmoid 'the_node': HardSigmoid\(alpha=0.2, beta=0.5\) is not supported/,
    ],
    [
      'Reshape to [N, C, H*W]',
      single({ op: 'Reshape', inputs: ['x', 'shape'] }, [ints('shape', [1, 2, 16])]),
      /Reshape 'the_node': reshaping \[1,2,4,4\] to \[1,2,16\] is not supported/,
    ],
    [
      'AveragePool with ceil_mode changing the size',
      single({
        op: 'AveragePool',
        inputs: ['x'],
        attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, ceil_mode: { i: 1 } },
      }),
      /AveragePool 'the_node': ceil_mode=1 changes the output size here/,
    ],
    [
      'Slice of H',
      single({ op: 'Slice', inputs: ['x', 'st', 'en', 'ax'] }, [ints('st', [1]), ints('en', [3]), ints('ax', [2])]),
      /Slice 'the_node': slicing axis 2 of \[1,2,4,4\] is not supported/,
    ],
    [
      'Split of W',
      single({ op: 'Split', inputs: ['x'], attributes: { axis: { i: 3 } } }),
      /Split 'the_node': Split on axis 3 is not supported/,
    ],
    [
      'a Transpose moving H inside a channel reshape',
      onnxModel({
        opset: 13,
        inputs: [['x', [1, 4, 2, 2]]],
        outputs: ['y'],
        nodes: [
          { op: 'Reshape', inputs: ['x', 'grouped'], outputs: ['g'] },
          { op: 'Transpose', name: 'the_node', inputs: ['g'], outputs: ['y'], attributes: { perm: { ints: [0, 3, 2, 1, 4] } } },
        ],
        initializers: [ints('grouped', [1, 2, 2, 2, 2])],
      }),
      /Transpose 'the_node': Transpose with perm \[0,3,2,1,4\] of a channel reshape is not supported/,
    ],
    [
      'a Conv whose weight is computed',
      single({ op: 'Conv', inputs: ['x', 'x'] }),
      /Conv 'the_node': the weight \('x'\) must be a constant/,
    ],
  ])('%s', (_what, model, message) => {
    expect(() => importOnnx(model, { file: 'handmade.onnx' })).toThrow(message);
    expect(() => importOnnx(model, { file: 'handmade.onnx' })).toThrow(/^handmade\.onnx: /);
  });
});
