// Column views on the plan (src/codegen/plan/column_views.ts): concats and selections whose
// readers all take channels by index become channels of one shared buffer. Random graphs of
// concats, selections (reordered, repeated), batch norms after selections and convs run on the
// plan against the interpreter; a pruned DenseNet's plan copies only each layer's new channels.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { channelRuns } from '../../src/codegen/runtime/model_runtime.js';
import { batchNorm, concat, conv2d, gather, globalAvgPool, model, relu, type Value } from '../../src/frontends/dsl.ts';
import { graphInputs, usersOf } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { compileToScratch } from './emitted.ts';
import { SMALL_NETS } from './nets.ts';

beforeAll(() => initBackend('wasm'));

type Op =
  | { readonly kind: 'conv'; readonly from: number; readonly width: number; readonly kernel: 1 | 3 }
  | { readonly kind: 'concat'; readonly from: readonly number[] }
  | { readonly kind: 'select'; readonly from: number; readonly picks: readonly number[]; readonly norm: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('conv' as const),
      from: fc.nat(),
      width: fc.integer({ min: 1, max: 9 }),
      kernel: fc.constantFrom(1 as const, 3 as const),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('concat' as const), from: fc.array(fc.nat(), { minLength: 2, maxLength: 3 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('select' as const),
      from: fc.nat(),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
      norm: fc.boolean(),
    }),
  },
);

/** A graph of the ops over the values made so far (`from` taken modulo their count); every value no op read is concatenated and read by a conv at the end. */
function buildGraph(ops: readonly Op[], seed: number): Graph {
  return withSparsityLikeWeights(
    model(`views-${seed}`, { input: [5, 5, 3], seed }, (x) => {
      const values: Value<4>[] = [relu(conv2d(x, 4, { kernel: 1 }))];
      const read = new Set<number>();
      const take = (i: number) => {
        const k = i % values.length;
        read.add(k);
        return values[k];
      };
      for (const op of ops) {
        if (op.kind === 'conv') values.push(relu(conv2d(take(op.from), op.width, { kernel: op.kernel })));
        else if (op.kind === 'concat') {
          const [first, ...rest] = op.from.map(take);
          values.push(concat(first, ...rest));
        } else {
          const from = take(op.from);
          const channels = from.shape[3];
          const picked = gather(
            from,
            op.picks.map((p) => p % channels),
          );
          values.push(op.norm ? relu(batchNorm(picked)) : picked);
        }
      }
      const leaves = values.filter((_, i) => !read.has(i));
      const [first, ...rest] = leaves;
      const joined = rest.length === 0 ? first : concat(first, ...rest);
      return globalAvgPool(conv2d(joined, 3, { kernel: 1 }));
    }),
  );
}

/** The plan on slimc's convs and on XNNPACK's (which write into a column buffer through a copy). */
async function expectPlanEqualsInterpreter(graph: Graph, batches: readonly number[]): Promise<void> {
  const out = await compileToScratch(graph);
  const models = [await out.exports.load(), await out.exports.load({ convolutions: 'xnnpack' })];
  try {
    const [input] = graphInputs(out.compiled.reference);
    const perSample = input.type.shape.slice(1).reduce((a, b) => a * b, 1);
    for (const m of models) {
      expect(m.info.runtime.name).toBe('plan');
      for (const batch of batches) {
        const rng = new Rng(batch);
        const x = rng.fill(batch * perSample, () => rng.normal());
        const [expected] = await interpret(out.compiled.reference, x);
        const c = compareOutputs(expected, (await m.predict(x)) as Float32Array);
        expect(c.ok, `${graph.name} (${m.info.runtime.convolutions}) batch ${batch}: max diff ${c.maxAbsDiff}`).toBe(true);
      }
    }
  } finally {
    for (const m of models) m.dispose();
    await out.cleanup();
  }
}

describe('column views', () => {
  it('turn random graphs of concats, selections and norms into plans that equal the interpreter (batch 1 and 3)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 2, maxLength: 9 }), fc.integer({ min: 1, max: 1000 }), async (ops, seed) => {
        await expectPlanEqualsInterpreter(buildGraph(ops, seed), [1, 3]);
      }),
      { numRuns: 25, seed: 17 },
    );
  }, 240_000);

  it('make a pruned DenseNet write each layer new channels into one buffer: no selection step, no copy of the growing concat', async () => {
    const graph = SMALL_NETS.densenet();
    const out = await compileToScratch(graph, { slim: { ratio: 0.4 } });
    try {
      const plan = out.compiled.module.forward.plan;
      const lowered = out.compiled.lowered;
      // Every concat of a block is a view; the copies move at most one conv's output channels each.
      const copied = plan.steps
        .filter((s) => s.op === 'copy')
        .map((s) => (s.op === 'copy' ? s.runs.flat().reduce((a, r) => a + r[2], 0) : 0));
      const convWidths = lowered.nodes.filter((n) => n.op === 'conv2d' && n.groups === 1).map((n) => n.type.shape[3]);
      expect(Math.max(...copied)).toBeLessThanOrEqual(Math.max(...convWidths));
      // Each layer's conv writes its channels into the block's buffer itself: every dense conv read
      // only by a concat that only selections read (the block's last concat, which the transition's
      // norm reads whole, is a plain value, and its conv's output is copied into it).
      const users = usersOf(lowered);
      const readBySelections = (id: string) => (users.get(id) ?? []).every((u) => u.op === 'gather' || u.op === 'concat');
      const layerConvs = lowered.nodes.filter((n) => {
        const [reader, ...others] = users.get(n.id) ?? [];
        return n.op === 'conv2d' && n.groups === 1 && others.length === 0 && reader?.op === 'concat' && readBySelections(reader.id);
      });
      expect(layerConvs.length).toBeGreaterThan(0);
      const inPlace = plan.steps.filter((s) => s.op === 'conv2d' && s.into !== undefined).map((s) => s.name);
      expect(inPlace.sort()).toEqual(layerConvs.map((n) => n.id).sort());
      // Selections from a concat (or from a selection of one) are free: no step.
      const nodes = new Map(lowered.nodes.map((n) => [n.id, n]));
      const readsColumns = (id: string) => ['concat', 'gather'].includes(nodes.get(id)?.op ?? '');
      const selections = plan.steps.filter((s) => s.op === 'gather' && s.affine === null);
      expect(
        selections.filter((s) => {
          const n = nodes.get(s.name);
          return n?.op === 'gather' && readsColumns(n.input);
        }),
      ).toEqual([]);
      const m = await out.exports.load();
      try {
        const [input] = graphInputs(out.compiled.reference);
        const rng = new Rng(3);
        const x = rng.fill(2 * input.type.shape.slice(1).reduce((a, b) => a * b, 1), () => rng.normal());
        const [expected] = await interpret(out.compiled.reference, x);
        expect(compareOutputs(expected, (await m.predict(x)) as Float32Array).ok).toBe(true);
      } finally {
        m.dispose();
      }
    } finally {
      await out.cleanup();
    }
  }, 60_000);

  it('merge consecutive source channels into one copy run', () => {
    expect(channelRuns([0, 1, 2, 5, 6, 4], 10)).toEqual([
      [0, 10, 3],
      [5, 13, 2],
      [4, 15, 1],
    ]);
    expect(channelRuns([], 0)).toEqual([]);
  });
});
