// The lowering passes on the IR alone (no backend): what each rewrites and what it must leave
// alone, the folded weights' arithmetic, validity after every pass, and liveness.
import { cost } from '../../src/ir/cost.ts';
import { describe, expect, it } from 'vitest';
import { add, batchNorm, concat, conv2d, dense, flatten, gather, globalAvgPool, model, relu, relu6 } from '../../src/frontends/dsl.ts';
import { bnWeightNames, inputsOf, usersOf } from '../../src/ir/node.ts';
import type { Conv2dNode, Graph, Node, ScaleShiftNode } from '../../src/ir/types.ts';
import { graphsEqual } from '../../src/ir/equal.ts';
import { verify } from '../../src/ir/verify.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import {
  batchNormToScaleShift,
  eliminateDeadCode,
  FOLD_BATCH_NORM_RULES,
  foldBatchNorm,
  foldChannelSelections,
  FUSE_ACTIVATION_RULES,
  fuseActivations,
  IDENTITY_RULES,
  LOWERING_PASSES,
  lowerGraph,
  removeIdentities,
  scaleShiftToDepthwise,
  SCALE_SHIFT_RULES,
  SCALE_SHIFT_TO_DEPTHWISE_RULES,
} from '../../src/passes/lower/index.ts';
import { liveness } from '../../src/codegen/liveness.ts';
import { graphOf } from '../helpers/graphs.ts';
import { SMALL_NETS } from '../codegen/nets.ts';

const count = (g: Graph, op: Node['op']) => g.nodes.filter((n) => n.op === op).length;
const node = <O extends Node['op']>(g: Graph, id: string, op: O) => {
  const n = g.nodes.find((m) => m.id === id);
  if (!n || n.op !== op) throw new Error(`no ${op} %${id}`);
  return n as Extract<Node, { op: O }>;
};

describe('rule tables', () => {
  it('every rule has a unique name and a one-line statement of its algebra', () => {
    const rules = [
      ...FOLD_BATCH_NORM_RULES,
      ...FUSE_ACTIVATION_RULES,
      ...SCALE_SHIFT_RULES,
      ...SCALE_SHIFT_TO_DEPTHWISE_RULES,
      ...IDENTITY_RULES,
    ];
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    for (const r of rules) expect(r.algebra).toMatch(/^[^\n=]+ = [^\n=]+$/);
  });
});

describe.each(Object.keys(SMALL_NETS))('%s: every lowering pass', (name) => {
  const graph = SMALL_NETS[name]();
  it('gives a valid graph, and a second run changes nothing', () => {
    let g = graph;
    for (const pass of LOWERING_PASSES) {
      g = verify(pass.run(g));
      expect(graphsEqual(pass.run(g), g), `${pass.name} is not idempotent`).toBe(true);
    }
    // Nothing is left for a BN to be but folded or a scale_shift.
    expect(count(g, 'batch_norm')).toBe(0);
  });
});

describe('fold-batch-norm', () => {
  it('folds every BN of a conv-BN-ReLU network into its conv: W*s and b*s + t', () => {
    const graph = SMALL_NETS.vgg();
    const folded = verify(foldBatchNorm(graph));
    expect(count(folded, 'batch_norm')).toBe(0);
    expect(count(folded, 'conv2d')).toBe(count(graph, 'conv2d'));
    const conv = node(graph, 'conv1', 'conv2d');
    const bn = node(graph, 'bn1', 'batch_norm');
    const after = node(folded, 'conv1', 'conv2d');
    const w = bnWeightNames(bn.params);
    const [gamma, beta, mean, variance] = [w.gamma, w.beta, w.mean, w.variance].map((n) => graph.weights[n].data);
    const filter = graph.weights[conv.filter].data;
    const cout = gamma.length;
    for (const k of [0, 5, filter.length - 1]) {
      const s = gamma[k % cout] / Math.sqrt(variance[k % cout] + bn.epsilon);
      expect(folded.weights[after.filter].data[k]).toBeCloseTo(filter[k] * s, 6);
    }
    for (let c = 0; c < cout; c++) {
      const s = gamma[c] / Math.sqrt(variance[c] + bn.epsilon);
      expect(folded.weights[after.bias as string].data[c]).toBeCloseTo(beta[c] - mean[c] * s, 6);
    }
    // The BN's parameters are gone with it; readers of the BN read the folded conv.
    expect(Object.keys(folded.weights).some((n) => n.startsWith('bn1.'))).toBe(false);
    expect(inputsOf(node(folded, 'relu1', 'relu'))).toEqual(['conv1']);
  });

  it('leaves a BN whose conv has another reader, and one after a conv with a fused activation', () => {
    const shared = model('shared', { input: [4, 4, 2] }, (x) => {
      const c = conv2d(x, 3, { name: 'c' });
      return add(batchNorm(c, { name: 'bn' }), c);
    });
    expect(graphsEqual(foldBatchNorm(shared), shared)).toBe(true);
    const fused = graphOf(
      'fused',
      [
        { op: 'input', id: 'x', type: { dtype: 'f32', shape: [1, 4, 4, 2] } },
        {
          op: 'conv2d',
          id: 'c',
          type: { dtype: 'f32', shape: [0, 0, 0, 3] },
          input: 'x',
          filter: 'c.w',
          bias: null,
          kernel: [1, 1],
          strides: [1, 1],
          dilations: [1, 1],
          padding: { kind: 'valid' },
          groups: 1,
          activation: 'relu',
        },
        { op: 'batch_norm', id: 'bn', input: 'c', params: 'bn', epsilon: 1e-5 },
      ],
      ['bn'],
      { 'c.w': [1, 1, 2, 3], 'bn.gamma': [3], 'bn.beta': [3], 'bn.mean': [3], 'bn.var': [3] },
    );
    expect(graphsEqual(foldBatchNorm(fused), fused)).toBe(true);
  });

  it('folds a BN after a dense layer, and gives a fresh name to a filter another conv shares', () => {
    const g = model('head', { input: [2, 2, 3] }, (x) => batchNorm(dense(flatten(x), 4, { bias: false, name: 'fc' }), { name: 'bn' }));
    const folded = verify(foldBatchNorm(g));
    expect(folded.nodes.map((n) => n.op)).toEqual(['input', 'flatten', 'dense']);
    expect(node(folded, 'fc', 'dense').bias).toBe('fc.b');

    const sharing = model('sharing', { input: [4, 4, 2] }, (x) =>
      add(batchNorm(conv2d(x, 2, { name: 'a' }), { name: 'bn' }), conv2d(x, 2, { name: 'b' })),
    );
    const a = node(sharing, 'a', 'conv2d');
    const b = node(sharing, 'b', 'conv2d');
    const shared: Graph = {
      ...sharing,
      nodes: sharing.nodes.map((n) => (n.id === 'b' ? { ...b, filter: a.filter } : n)),
      weights: Object.fromEntries(Object.entries(sharing.weights).filter(([w]) => w !== b.filter)),
    };
    const out = verify(foldBatchNorm(verify(shared)));
    expect(node(out, 'b', 'conv2d').filter).toBe(a.filter);
    expect(out.weights[a.filter].data).toBe(shared.weights[a.filter].data);
    expect(node(out, 'a', 'conv2d').filter).not.toBe(a.filter);
  });
});

describe('fuse-activations', () => {
  it('fuses relu and relu6 into the conv or dense layer before them when it has no other reader', () => {
    const g = model('act', { input: [4, 4, 2] }, (x) => {
      const h = relu6(conv2d(x, 3, { name: 'c1' }));
      const shared = conv2d(h, 3, { name: 'c2' });
      const y = add(relu(shared), relu6(relu(conv2d(shared, 3, { name: 'c3' }))));
      return relu(dense(flatten(globalAvgPool(y)), 2, { name: 'fc' }));
    });
    const fused = verify(fuseActivations(g));
    expect(node(fused, 'c1', 'conv2d').activation).toBe('relu6');
    expect(node(fused, 'c2', 'conv2d').activation).toBe('none');
    // relu6(relu(y)) = relu6(y): the second activation composes with the fused one.
    expect(node(fused, 'c3', 'conv2d').activation).toBe('relu6');
    expect(node(fused, 'fc', 'dense').activation).toBe('relu');
    expect(count(fused, 'relu') + count(fused, 'relu6')).toBe(1);
    expect(fused.outputs).toEqual(['fc']);
  });
});

describe('bn-to-scale-shift', () => {
  it('turns exactly the BNs that cannot fold into scale_shift with s = gamma/sqrt(var+eps), t = beta - mean*s', () => {
    const graph = SMALL_NETS['resnet-preact']();
    const users = usersOf(graph);
    const producers = new Map(graph.nodes.map((n) => [n.id, n]));
    const unfoldable = graph.nodes.filter((n) => {
      if (n.op !== 'batch_norm') return false;
      const p = producers.get(n.input);
      const sole = (users.get(n.input)?.length ?? 0) === 1 && !graph.outputs.includes(n.input);
      return !(p && (p.op === 'conv2d' || p.op === 'dense') && p.activation === 'none' && sole);
    });
    expect(unfoldable.length).toBeGreaterThan(0);
    const lowered = verify(batchNormToScaleShift(foldBatchNorm(graph)));
    const shifts = lowered.nodes.filter((n): n is ScaleShiftNode => n.op === 'scale_shift');
    expect(shifts.map((n) => n.id).sort()).toEqual(unfoldable.map((n) => n.id).sort());
    const bn = unfoldable[0] as Extract<Node, { op: 'batch_norm' }>;
    const ss = shifts.find((n) => n.id === bn.id) as ScaleShiftNode;
    const w = bnWeightNames(bn.params);
    for (let c = 0; c < 3; c++) {
      const s = graph.weights[w.gamma].data[c] / Math.sqrt(graph.weights[w.variance].data[c] + bn.epsilon);
      expect(lowered.weights[ss.scale as string].data[c]).toBeCloseTo(s, 6);
      expect(lowered.weights[ss.shift as string].data[c]).toBeCloseTo(graph.weights[w.beta].data[c] - graph.weights[w.mean].data[c] * s, 6);
    }
  });
});

describe('scale-shift-to-depthwise', () => {
  it('turns NHWC multiply-adds into 1x1 depthwise convs with the scale as filter, and leaves rank-2 ones', () => {
    const g = model('ss', { input: [4, 4, 3] }, (x) => {
      const h = relu(batchNorm(add(conv2d(x, 3, { name: 'a' }), x), { name: 'bn4d' }));
      return batchNorm(dense(flatten(h), 2, { name: 'fc' }), { name: 'bn2d' });
    });
    // bn2d folds into fc; bn4d, after a sum, cannot fold.
    const shifted = batchNormToScaleShift(foldBatchNorm(g));
    const out = verify(scaleShiftToDepthwise(shifted));
    const ss = node(shifted, 'bn4d', 'scale_shift');
    const dw = node(out, 'bn4d', 'conv2d');
    expect(dw).toMatchObject({ groups: 3, kernel: [1, 1], padding: { kind: 'valid' }, bias: ss.shift, activation: 'none' });
    expect(out.weights[dw.filter]).toEqual({ shape: [1, 1, 1, 3], data: shifted.weights[ss.scale as string].data });
    const rank2 = graphOf(
      'rank2',
      [
        { op: 'input', id: 'x', type: { dtype: 'f32', shape: [1, 5] } },
        { op: 'scale_shift', id: 'ss', input: 'x', scale: 's', shift: null },
      ],
      ['ss'],
      { s: [5] },
    );
    expect(graphsEqual(scaleShiftToDepthwise(rank2), rank2)).toBe(true);
  });
});

describe('fold-channel-selections', () => {
  /** x (C channels) -> gather(kept) -> BN -> ReLU -> conv(outputs, kernel), lowered up to the fold. */
  function selectionBeforeConv(kept: number[], outputs: number, kernel: 1 | 3, channels = 16): Graph {
    const g = model('sel', { input: [8, 8, channels] }, (x) =>
      conv2d(relu(batchNorm(gather(x, kept, 'select'), { name: 'bn' })), outputs, { kernel, name: 'conv' }),
    );
    return LOWERING_PASSES.filter((p) => p.name !== 'fold-channel-selections').reduce((h, p) => p.run(h), g);
  }

  it('drops a selection of all but one channel before a narrow conv: per-channel ops on every channel, zero filter rows', () => {
    const kept = Array.from({ length: 32 }, (_, c) => c).filter((c) => c !== 3);
    const before = selectionBeforeConv(kept, 4, 1, 32);
    const after = verify(foldChannelSelections(before));
    expect(after.nodes.map((n) => n.op)).toEqual(['input', 'conv2d', 'conv2d']);
    const bn = node(after, 'bn', 'conv2d');
    expect(bn).toMatchObject({ input: 'x', groups: 32, activation: 'relu' });
    const filter = after.weights[node(after, 'conv', 'conv2d').filter];
    expect(filter.shape).toEqual([1, 1, 32, 4]);
    expect(after.weights[bn.filter].data[3]).toBe(0);
    expect(Array.from(filter.data.subarray(3 * 4, 4 * 4))).toEqual([0, 0, 0, 0]);
    const original = before.weights[node(before, 'conv', 'conv2d').filter].data;
    expect(Array.from(filter.data.subarray(4 * 4, 5 * 4))).toEqual(Array.from(original.subarray(3 * 4, 4 * 4)));
  });

  it('keeps a selection whose fold would add more than 5% to the weights it touches', () => {
    const kept = [0, 1, 2, 4, 5, 7, 8, 9, 11, 12, 14, 15];
    const before = selectionBeforeConv(kept, 4, 1);
    expect(graphsEqual(foldChannelSelections(before), before)).toBe(true);
  });

  it('keeps a selection when the spread conv would cost more than the copy', () => {
    const before = selectionBeforeConv([0, 9], 64, 3);
    expect(graphsEqual(foldChannelSelections(before), before)).toBe(true);
  });

  it('ships at most 5% more weights than the unfolded graph on a pruned pre-activation ResNet', () => {
    const compact = slimGraph(SMALL_NETS['resnet-preact'](), { ratio: 0.4 }).compact;
    expect(count(compact, 'gather')).toBeGreaterThanOrEqual(2);
    const unfolded = LOWERING_PASSES.filter((p) => p.name !== 'fold-channel-selections').reduce((h, p) => p.run(h), compact);
    expect(cost(lowerGraph(compact)).params).toBeLessThanOrEqual(1.05 * cost(unfolded).params);
  });
});

describe('remove-identities and dead-code', () => {
  it('drops a gather of all channels in order, keeps a reordering one, and forwards outputs keeping their names', () => {
    const g = model('sel', { input: [2, 2, 3] }, (x) => {
      const c = conv2d(x, 3, { name: 'c' });
      return [gather(c, [0, 1, 2], 'all'), gather(c, [2, 1, 0], 'reversed'), concat(gather(c, [0, 1, 2], 'again'))];
    });
    expect(g.outputs).toEqual(['all', 'reversed', 'concat1']);
    const out = verify(removeIdentities(g));
    // The conv takes the name of the output it computes; the third output would then be the same
    // value as the first (a module returns outputs by name), so the concat stays, as a copy.
    expect(out.outputs).toEqual(['all', 'reversed', 'concat1']);
    expect(out.nodes.map((n) => `${n.id}=${n.op}`)).toEqual(['x=input', 'all=conv2d', 'reversed=gather', 'concat1=concat']);
    // An output that is an identity of a graph input stays: the input keeps its name.
    const passthrough = model('id', { input: [2, 2, 3] }, (x) => [gather(x, [0, 1, 2], 'same')]);
    expect(removeIdentities(passthrough).nodes.map((n) => n.id)).toEqual(['x', 'same']);
  });

  it('removes nodes no output depends on, with the weights only they used', () => {
    const both = model('dead', { input: [4, 4, 2] }, (x) => [conv2d(x, 2, { name: 'used' }), conv2d(relu(x), 5, { name: 'unused' })]);
    // Dropping an output leaves its branch dangling: the verifier rejects that, dead-code fixes it.
    const narrowed: Graph = { ...both, outputs: ['used'] };
    expect(() => verify(narrowed)).toThrow(/dangling/);
    const out = verify(eliminateDeadCode(narrowed));
    expect(out.nodes.map((n) => n.id)).toEqual(['x', 'used']);
    expect(Object.keys(out.weights)).toEqual(['used.w']);
  });
});

describe('liveness', () => {
  it('frees every value once, after its last reader, and never an output', () => {
    for (const make of Object.values(SMALL_NETS)) {
      const g = lowerGraph(make());
      const live = liveness(g);
      const freedAt = new Map<string, number>();
      live.freedAfter.forEach((values, i) =>
        values.forEach((v) => {
          expect(freedAt.has(v), `%${v} freed twice`).toBe(false);
          freedAt.set(v, i);
        }),
      );
      g.nodes.forEach((n, i) => {
        for (const v of inputsOf(n)) expect(freedAt.get(v) ?? Infinity).toBeGreaterThanOrEqual(i);
        if (g.outputs.includes(n.id)) expect(freedAt.has(n.id)).toBe(false);
        else expect(freedAt.has(n.id)).toBe(true);
      });
    }
  });

  it('lowers a pre-activation ResNet to convs, adds and the head: every BN and ReLU folds or fuses', () => {
    const g = SMALL_NETS['resnet-preact']();
    const scaleShifts = count(batchNormToScaleShift(foldBatchNorm(g)), 'scale_shift');
    const lowered = lowerGraph(g);
    // A BN that cannot fold becomes a 1x1 depthwise conv, and the ReLU after it fuses into that.
    expect(count(lowered, 'conv2d')).toBe(count(g, 'conv2d') + scaleShifts);
    expect(lowered.nodes.map((n) => n.op).filter((op) => !['input', 'conv2d', 'add'].includes(op))).toEqual([
      'avg_pool',
      'flatten',
      'dense',
    ]);
    const depthwise = lowered.nodes.filter((n): n is Conv2dNode => n.op === 'conv2d' && n.groups > 1);
    expect(depthwise.length).toBe(scaleShifts);
    expect(depthwise.every((c) => c.kernel[0] === 1 && c.activation === 'relu')).toBe(true);
  });
});
