// Structural equality of graphs and the first difference it reports, which tests print on failure.
import { describe, expect, it } from 'vitest';
import { describeGraphDifference, graphsEqual } from '../../src/ir/equal.ts';
import type { Graph, Node, Weight } from '../../src/ir/types.ts';
import { allOpsGraph } from '../helpers/graphs.ts';

const base = allOpsGraph();

const editNode = (graph: Graph, id: string, edit: (n: Node) => Node): Graph => ({
  ...graph,
  nodes: graph.nodes.map((n) => (n.id === id ? edit(n) : n)),
});

const editWeight = (graph: Graph, name: string, edit: (w: Weight) => Weight): Graph => ({
  ...graph,
  weights: { ...graph.weights, [name]: edit(graph.weights[name]) },
});

function withValue(w: Weight, index: number, value: number): Weight {
  const data = w.data.slice();
  data[index] = value;
  return { shape: w.shape, data };
}

describe('graphsEqual', () => {
  it('holds for two separately built copies (fresh arrays, same bits)', () => {
    const copy = allOpsGraph();
    expect(copy.weights['dw.w'].data).not.toBe(base.weights['dw.w'].data);
    expect(graphsEqual(base, copy)).toBe(true);
    expect(describeGraphDifference(base, copy)).toBeNull();
  });

  it('ignores the order of nodes and of weight keys, but not of inputs or outputs', () => {
    const [x, in2, ...rest] = base.nodes;
    const reordered: Graph = {
      ...base,
      nodes: [x, ...rest.slice(0, 5), in2, ...rest.slice(5)],
      weights: Object.fromEntries(Object.entries(base.weights).reverse()),
    };
    expect(graphsEqual(base, reordered)).toBe(true);
    const swappedInputs: Graph = { ...base, nodes: [in2, x, ...rest] };
    expect(describeGraphDifference(base, swappedInputs)).toBe('graph inputs: (%x, %in:2) vs (%in:2, %x)');
    const swappedOutputs: Graph = { ...base, outputs: [...base.outputs].reverse() };
    expect(describeGraphDifference(base, swappedOutputs)).toBe(
      'graph outputs: (%prob "out", %/features/0/Conv) vs (%/features/0/Conv, %prob "out")',
    );
  });
});

describe('describeGraphDifference names the node, the field and both values', () => {
  it('an attribute', () => {
    const other = editNode(base, 'grouped', (n) =>
      n.op === 'conv2d' ? { ...n, padding: { kind: 'explicit', top: 1, bottom: 0, left: 2, right: 2 } } : n,
    );
    expect(describeGraphDifference(base, other)).toBe('node %grouped (conv2d): padding.right: 1 vs 2');
    const strided = editNode(base, 'mp_same', (n) => (n.op === 'max_pool' ? { ...n, strides: [1, 2] } : n));
    expect(describeGraphDifference(base, strided)).toBe('node %mp_same (max_pool): strides: [2,2] vs [1,2]');
  });

  it('a padding kind, a divisor flag, an activation, indices', () => {
    const valid = editNode(base, 'mp_same', (n) => (n.op === 'max_pool' ? { ...n, padding: { kind: 'valid' } } : n));
    expect(describeGraphDifference(base, valid)).toBe('node %mp_same (max_pool): padding.kind: "same" vs "valid"');
    const divisor = editNode(base, 'ap_pad', (n) => (n.op === 'avg_pool' ? { ...n, countIncludePad: false } : n));
    expect(describeGraphDifference(base, divisor)).toBe('node %ap_pad (avg_pool): countIncludePad: true vs false');
    const act = editNode(base, 'fc1', (n) => (n.op === 'dense' ? { ...n, activation: 'none' } : n));
    expect(describeGraphDifference(base, act)).toBe('node %fc1 (dense): activation: "relu" vs "none"');
    const indices = editNode(base, 'select', (n) => (n.op === 'gather' ? { ...n, indices: [7, 0, 3, 2] } : n));
    expect(describeGraphDifference(base, indices)).toBe('node %select (gather): indices: [7,0,3,3] vs [7,0,3,2]');
  });

  it('an absent optional weight, an epsilon of -0, a type, an op', () => {
    const noBias = editNode(base, 'dw', (n) => (n.op === 'conv2d' ? { ...n, bias: null } : n));
    expect(describeGraphDifference(base, noBias)).toBe('node %dw (conv2d): bias: "dw.b" vs null');
    const zero = editNode(base, 'bn', (n) => (n.op === 'batch_norm' ? { ...n, epsilon: 0 } : n));
    const negativeZero = editNode(base, 'bn', (n) => (n.op === 'batch_norm' ? { ...n, epsilon: -0 } : n));
    expect(describeGraphDifference(zero, negativeZero)).toBe('node %bn (batch_norm): epsilon: 0 vs -0');
    const typed = editNode(base, 'r', (n) => ({ ...n, type: { dtype: 'f32', shape: [1, 2, 7, 9] } }));
    expect(describeGraphDifference(base, typed)).toBe('node %r (relu): type.shape: [1,2,7,8] vs [1,2,7,9]');
    const op = editNode(base, 'r', (n) => (n.op === 'relu' ? { ...n, op: 'relu6' } : n));
    expect(describeGraphDifference(base, op)).toBe('node %r: op: relu vs relu6');
  });

  it('a node or a weight only in one graph', () => {
    const fewer: Graph = { ...base, nodes: base.nodes.filter((n) => n.id !== 'g3') };
    expect(describeGraphDifference(base, fewer)).toBe('node %g3 (global_avg_pool) is only in the first graph');
    expect(describeGraphDifference(fewer, base)).toBe('node %g3 (global_avg_pool) is only in the second graph');
    const { 'dw.b': _, ...lessWeights } = base.weights;
    expect(describeGraphDifference({ ...base, weights: lessWeights }, base)).toBe('weight @dw.b is only in the second graph');
  });

  it('weight data bit for bit: the sign of zero and NaN payloads count', () => {
    const a = editWeight(base, 'bn.beta', (w) => withValue(w, 3, 0));
    const b = editWeight(base, 'bn.beta', (w) => withValue(w, 3, -0));
    expect(describeGraphDifference(a, b)).toBe('weight @bn.beta: data[3]: 0 vs -0 (bits 0x00000000 vs 0x80000000)');
    const quietNaN = editWeight(base, 'fc1.b', (w) => withValue(w, 0, NaN));
    const otherNaN = editWeight(base, 'fc1.b', (w) => {
      const data = w.data.slice();
      new Uint32Array(data.buffer)[0] = 0x7fc00001;
      return { shape: w.shape, data };
    });
    expect(describeGraphDifference(quietNaN, otherNaN)).toBe('weight @fc1.b: data[0]: NaN vs NaN (bits 0x7fc00000 vs 0x7fc00001)');
    expect(
      graphsEqual(
        quietNaN,
        editWeight(base, 'fc1.b', (w) => withValue(w, 0, NaN)),
      ),
    ).toBe(true);
  });

  it('a weight shape', () => {
    const reshaped = editWeight(base, 'fc1.w', (w) => ({ shape: [10, 12], data: w.data }));
    expect(describeGraphDifference(base, reshaped)).toBe('weight @fc1.w: shape: [12,10] vs [10,12]');
  });

  it('the graph name and layout', () => {
    expect(describeGraphDifference(base, { ...base, name: 'other' })).toBe('graph name: "torch-jit export" vs "other"');
    expect(describeGraphDifference(base, { ...base, layout: { input: 'NCHW' } })).toBe('graph layout: (absent) vs {"input":"NCHW"}');
  });
});
