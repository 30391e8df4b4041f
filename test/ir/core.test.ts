// The core IR without any backend: the cost model against the paper's architectures, the shape
// rule of every op, verifier problems, and the DSL's types.
import { describe, expect, expectTypeOf, it } from 'vitest';
import densenet40 from '../../examples/densenet40.ts';
import resnet164 from '../../examples/resnet164.ts';
import vgg19 from '../../examples/vgg19.ts';
import {
  add,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  globalAvgPool,
  model,
  relu,
  type Value,
} from '../../src/frontends/dsl.ts';
import { cost } from '../../src/ir/cost.ts';
import { GraphError } from '../../src/ir/errors.ts';
import { inferType } from '../../src/ir/node.ts';
import { windowOutputSize } from '../../src/ir/shapes.ts';
import type { Graph, Node, TensorType } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { findProblems, verify } from '../../src/ir/verify.ts';

describe('cost model', () => {
  it.each([
    ['VGG-19', vgg19, 20_035_018, 398_136_320],
    ['ResNet-164', resnet164, 1_703_258, 247_646_720],
    ['DenseNet-40', densenet40, 1_059_298, 282_917_328],
  ] as const)("%s has the paper architecture's params and MACs", (_, build, params, macs) => {
    const c = cost(build());
    expect(c.params).toBe(params);
    expect(c.macs).toBe(macs);
    expect(c.flops).toBe(2 * macs);
  });

  it('counts conv (incl. depthwise and bias), BN gamma/beta and dense per node', () => {
    const g = model('m', { input: [8, 8, 4] }, (x) => {
      const h = batchNorm(conv2d(x, 6, { kernel: 3, stride: 2, bias: true }));
      return dense(flatten(globalAvgPool(depthwiseConv2d(h))), 3);
    });
    const byOp = Object.fromEntries(cost(g).nodes.map((n) => [n.id, n]));
    expect(byOp.conv1).toMatchObject({ params: 3 * 3 * 4 * 6 + 6, macs: 4 * 4 * 6 * 3 * 3 * 4 });
    expect(byOp.bn1).toMatchObject({ params: 12, macs: 0 });
    expect(byOp.dwconv1).toMatchObject({ params: 3 * 3 * 6, macs: 4 * 4 * 6 * 3 * 3 });
    expect(byOp.fc1).toMatchObject({ params: 6 * 3 + 3, macs: 18 });
  });
});

/** A node whose type the shape rules fill in (conv2d and dense give their channels in `type`). */
type Untyped = Node extends infer N ? (N extends Node ? Omit<N, 'type'> & { type?: TensorType } : never) : never;

describe('shape rules', () => {
  const x: TensorType = f32([2, 9, 8, 4]);
  const typeOf = (v: string) => (v === 'x' ? x : v === 'y' ? f32([2, 9, 8, 6]) : f32([2, 10]));
  const infer = (n: Untyped) => inferType({ type: f32([]), ...n } as Node, typeOf).shape;
  const window = { kernel: [3, 3] as const, strides: [2, 2] as const, dilations: [1, 1] as const };

  it('gives every op its output shape', () => {
    const conv = { op: 'conv2d', id: 'c', input: 'x', filter: 'w', bias: null, groups: 1, activation: 'none', ...window } as const;
    expect(infer({ ...conv, type: f32([2, 0, 0, 5]), padding: { kind: 'same' } })).toEqual([2, 5, 4, 5]);
    expect(infer({ ...conv, type: f32([2, 0, 0, 5]), padding: { kind: 'valid' } })).toEqual([2, 4, 3, 5]);
    expect(infer({ ...conv, type: f32([2, 0, 0, 5]), padding: { kind: 'explicit', top: 1, bottom: 0, left: 2, right: 2 } })).toEqual([
      2, 4, 5, 5,
    ]);
    expect(infer({ ...conv, type: f32([2, 0, 0, 4]), groups: 4, padding: { kind: 'same' }, dilations: [2, 2] })).toEqual([2, 5, 4, 4]);
    expect(infer({ op: 'max_pool', id: 'p', input: 'x', kernel: [2, 2], strides: [2, 2], padding: { kind: 'valid' } })).toEqual([
      2, 4, 4, 4,
    ]);
    expect(
      infer({ op: 'avg_pool', id: 'p', input: 'x', kernel: [3, 3], strides: [1, 1], padding: { kind: 'same' }, countIncludePad: false }),
    ).toEqual([2, 9, 8, 4]);
    expect(infer({ op: 'global_avg_pool', id: 'g', input: 'x' })).toEqual([2, 1, 1, 4]);
    for (const op of ['relu', 'relu6', 'softmax'] as const) expect(infer({ op, id: 'r', input: 'x' })).toEqual([2, 9, 8, 4]);
    expect(infer({ op: 'batch_norm', id: 'b', input: 'x', params: 'b', epsilon: 1e-5 })).toEqual([2, 9, 8, 4]);
    expect(infer({ op: 'scale_shift', id: 's', input: 'x', scale: null, shift: 's' })).toEqual([2, 9, 8, 4]);
    expect(infer({ op: 'add', id: 'a', inputs: ['x', 'x', 'x'] })).toEqual([2, 9, 8, 4]);
    expect(infer({ op: 'concat', id: 'k', inputs: ['x', 'y'] })).toEqual([2, 9, 8, 10]);
    expect(infer({ op: 'flatten', id: 'f', input: 'x' })).toEqual([2, 9 * 8 * 4]);
    expect(infer({ op: 'dense', id: 'd', input: 'z', weight: 'w', bias: null, activation: 'none', type: f32([2, 7]) })).toEqual([2, 7]);
    expect(infer({ op: 'gather', id: 'g', input: 'x', indices: [3, 0] })).toEqual([2, 9, 8, 2]);
    expect(windowOutputSize(7, 3, 2, 1, { kind: 'same' }, 'h')).toBe(4);
  });

  it('names the node and the mismatch when shapes do not fit', () => {
    expect(() => infer({ op: 'add', id: 'a', inputs: ['x', 'y'] })).toThrow(
      /%a: add: operand 1 \(%y\) has shape \[2,9,8,6\] but operand 0 \(%x\) has \[2,9,8,4\]/,
    );
    expect(() => infer({ op: 'gather', id: 'g', input: 'x', indices: [4] })).toThrow(/index 4 is out of range for 4 channels/);
    expect(() => infer({ op: 'dense', id: 'd', input: 'x', weight: 'w', bias: null, activation: 'none' })).toThrow(/rank 2/);
    expect(() => infer({ op: 'max_pool', id: 'p', input: 'x', kernel: [10, 10], strides: [1, 1], padding: { kind: 'valid' } })).toThrow(
      GraphError,
    );
  });
});

describe('verifier', () => {
  const good = () => model('g', { input: [4, 4, 2] }, (x) => dense(flatten(relu(batchNorm(conv2d(x, 3)))), 2));

  it('accepts what the DSL builds and reports each problem with its place', () => {
    expect(findProblems(good())).toEqual([]);
    const g = good();
    const nan: Graph = { ...g, weights: { ...g.weights, 'bn1.gamma': { shape: [3], data: Float32Array.from([1, Number.NaN, 1]) } } };
    expect(findProblems(nan)).toEqual([{ where: '@bn1.gamma', message: 'value NaN at index 1 (weights must be finite)' }]);
    const { 'fc1.b': _, ...noBias } = g.weights;
    expect(findProblems({ ...g, weights: noBias })[0]).toMatchObject({ where: '%fc1', message: 'dense: weight @fc1.b is missing' });
    const extra: Graph = { ...g, weights: { ...g.weights, stray: { shape: [1], data: new Float32Array(1) } } };
    expect(findProblems(extra)).toEqual([{ where: '@stray', message: 'weight is not used by any node' }]);
    const swapped: Graph = { ...g, nodes: [g.nodes[0], g.nodes[2], g.nodes[1], ...g.nodes.slice(3)] };
    expect(findProblems(swapped)[0].message).toMatch(/reads %conv1, which is defined after its use/);
    const dangling: Graph = { ...g, outputs: ['relu1'] };
    expect(findProblems(dangling)).toEqual([{ where: '%fc1', message: 'dense: value is never used (dangling)' }]);
    expect(() => verify(dangling)).toThrow(/graph g is invalid \(1 problem\)/);
  });
});

/** Never called: these lines must not compile (checked by tsc, part of npm test). */
export function wrongArity(x: Value<4>): void {
  // @ts-expect-error dense needs a rank-2 value: flatten first
  dense(x, 2);
  // @ts-expect-error add needs at least two operands
  add(x);
  // @ts-expect-error the DSL's concat takes NHWC values only
  concat(flatten(x), flatten(x));
  // @ts-expect-error conv2d takes an NHWC value
  conv2d(flatten(x), 2);
}

describe('DSL types', () => {
  it('keeps ranks in the types', () => {
    const g = model('t', { input: [4, 4, 2] }, (x) => {
      const c = conv2d(x, 2);
      const f = relu(flatten(c));
      expectTypeOf(c).toEqualTypeOf<Value<4>>();
      expectTypeOf(flatten).returns.toEqualTypeOf<Value<2>>();
      expectTypeOf(f).toEqualTypeOf<Value<2>>();
      return [dense(f, 2), avgPool(c, { kernel: 2 })];
    });
    expect(g.outputs).toEqual(['fc1', 'avgpool1']);
  });
});
