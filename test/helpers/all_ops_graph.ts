// A small hand-built graph that uses every op, every padding kind and every optional-weight form
// (no vitest import, so scripts can print it: see test/ir/text_golden.test.ts).
import { inferType } from '../../src/ir/node.ts';
import type { Graph, Node, TensorType, Weight } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { Rng } from '../../src/util/random.ts';

type Untyped = Node extends infer N ? (N extends Node ? Omit<N, 'type'> & { type?: TensorType } : never) : never;

/**
 * A verified graph from nodes whose types are computed by the shape rules (conv2d and dense
 * give their output channels in `type`), and weights filled with seeded normal samples (BN variances: 0.5 + |normal|).
 */
export function graphOf(
  name: string,
  nodes: readonly Untyped[],
  outputs: readonly string[],
  weightShapes: Readonly<Record<string, readonly number[]>>,
  seed = 7,
): Graph {
  const types = new Map<string, TensorType>();
  const typed = nodes.map((n) => {
    const node = { ...n, type: n.type ?? f32([]) } as Node;
    const type = inferType(node, (v) => types.get(v) as TensorType);
    types.set(node.id, type);
    return { ...node, type } as Node;
  });
  const rng = new Rng(seed);
  const weights: Record<string, Weight> = {};
  for (const [w, shape] of Object.entries(weightShapes)) {
    weights[w] = {
      shape,
      // BN running variances positive (a negative one is refused by the verifier); the rest normal.
      data: rng.fill(
        shape.reduce((a, b) => a * b, 1),
        w.endsWith('.var') ? () => 0.5 + Math.abs(rng.normal()) : () => rng.normal(),
      ),
    };
  }
  return verify({ name, nodes: typed, outputs, weights });
}

/**
 * Every op; same, valid and explicit padding; fused relu, relu6 and sigmoid; a squeeze-excite
 * style mul by a [N, 1, 1, C] gate; biases present and absent;
 * scale_shift with each combination of scale and shift; rank-2 batch_norm; two inputs, two
 * outputs; ONNX-style names that must be quoted.
 */
export function allOpsGraph(): Graph {
  const conv = '/features/0/Conv';
  return graphOf(
    'torch-jit export',
    [
      { op: 'input', id: 'x', type: f32([1, 8, 8, 4]) },
      { op: 'input', id: 'in:2', type: f32([1, 10]) },
      {
        op: 'conv2d',
        id: conv,
        type: f32([0, 0, 0, 8]),
        input: 'x',
        filter: `${conv}.weight`,
        bias: `${conv}.bias`,
        kernel: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        padding: { kind: 'same' },
        groups: 1,
        activation: 'relu',
      },
      {
        op: 'conv2d',
        id: 'grouped',
        type: f32([0, 0, 0, 8]),
        input: conv,
        filter: 'grouped.w',
        bias: null,
        kernel: [3, 2],
        strides: [2, 1],
        dilations: [1, 2],
        padding: { kind: 'explicit', top: 1, bottom: 0, left: 2, right: 1 },
        groups: 2,
        activation: 'relu6',
      },
      {
        op: 'conv2d',
        id: 'dw',
        type: f32([0, 0, 0, 8]),
        input: 'grouped',
        filter: 'dw.w',
        bias: 'dw.b',
        kernel: [3, 3],
        strides: [1, 1],
        dilations: [1, 1],
        padding: { kind: 'valid' },
        groups: 8,
        activation: 'sigmoid',
      },
      { op: 'batch_norm', id: 'bn', input: 'dw', params: 'bn', epsilon: 1e-3 },
      { op: 'relu', id: 'r', input: 'bn' },
      { op: 'relu6', id: 'r6', input: 'r' },
      { op: 'silu', id: 'sw', input: 'r6' },
      { op: 'hard_swish', id: 'hsw', input: 'sw' },
      { op: 'global_avg_pool', id: 'squeeze', input: 'hsw' },
      { op: 'hard_sigmoid', id: 'hsig', input: 'squeeze' },
      { op: 'sigmoid', id: 'sig', input: 'hsig' },
      { op: 'mul', id: 'gated', inputs: ['hsw', 'sig'] },
      { op: 'mul', id: 'squared', inputs: ['gated', 'gated'] },
      { op: 'max_pool', id: 'mp_same', input: 'squared', kernel: [2, 2], strides: [2, 2], padding: { kind: 'same' } },
      {
        op: 'avg_pool',
        id: 'ap_pad',
        input: 'r6',
        kernel: [2, 2],
        strides: [1, 1],
        padding: { kind: 'explicit', top: 1, bottom: 1, left: 1, right: 1 },
        countIncludePad: true,
      },
      {
        op: 'avg_pool',
        id: 'ap_valid',
        input: 'ap_pad',
        kernel: [3, 3],
        strides: [1, 1],
        padding: { kind: 'valid' },
        countIncludePad: false,
      },
      {
        op: 'max_pool',
        id: 'mp_pad',
        input: 'ap_pad',
        kernel: [3, 3],
        strides: [1, 1],
        padding: { kind: 'explicit', top: 0, bottom: 0, left: 1, right: 1 },
      },
      { op: 'global_avg_pool', id: 'g1', input: 'mp_same' },
      { op: 'global_avg_pool', id: 'g2', input: 'ap_valid' },
      { op: 'global_avg_pool', id: 'g3', input: 'mp_pad' },
      { op: 'add', id: 'sum3', inputs: ['g1', 'g2', 'g3'] },
      { op: 'gather', id: 'select', input: 'sum3', indices: [7, 0, 3, 3] },
      { op: 'concat', id: 'cat', inputs: ['select', 'sum3'] },
      { op: 'scale_shift', id: 'ss_both', input: 'cat', scale: 'ss.scale', shift: 'ss.shift' },
      { op: 'scale_shift', id: 'ss_shift', input: 'ss_both', scale: null, shift: 'ss2.shift' },
      { op: 'scale_shift', id: 'ss_scale', input: 'ss_shift', scale: 'ss3.scale', shift: null },
      { op: 'scale_shift', id: 'ss_none', input: 'ss_scale', scale: null, shift: null },
      { op: 'flatten', id: 'flat', input: 'ss_none' },
      { op: 'dense', id: 'fc1', type: f32([0, 10]), input: 'flat', weight: 'fc1.w', bias: 'fc1.b', activation: 'relu' },
      { op: 'add', id: 'sum2', inputs: ['fc1', 'in:2'] },
      { op: 'dense', id: 'fc2', type: f32([0, 5]), input: 'sum2', weight: 'fc2.w', bias: null, activation: 'relu6' },
      { op: 'batch_norm', id: 'bn_2d', input: 'fc2', params: 'bn 2d', epsilon: 0.1 },
      { op: 'softmax', id: 'prob "out"', input: 'bn_2d' },
    ],
    ['prob "out"', conv],
    {
      [`${conv}.weight`]: [3, 3, 4, 8],
      [`${conv}.bias`]: [8],
      'grouped.w': [3, 2, 4, 8],
      'dw.w': [3, 3, 1, 8],
      'dw.b': [8],
      'bn.gamma': [8],
      'bn.beta': [8],
      'bn.mean': [8],
      'bn.var': [8],
      'ss.scale': [12],
      'ss.shift': [12],
      'ss2.shift': [12],
      'ss3.scale': [12],
      'fc1.w': [12, 10],
      'fc1.b': [10],
      'fc2.w': [10, 5],
      'bn 2d.gamma': [5],
      'bn 2d.beta': [5],
      'bn 2d.mean': [5],
      'bn 2d.var': [5],
    },
  );
}
