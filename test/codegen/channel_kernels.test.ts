// The emitted module's own channel kernels (runtime/model_runtime.js) against the interpreter,
// element for element: selections with runs of every kind the kernel copies differently (one
// channel, short runs, runs long enough for copyWithin, out of order, repeated), and concats of
// narrow and wide inputs, including one that reads its input twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, gather, model } from '../../src/frontends/dsl.ts';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { compileToScratch, type CompiledDir, type EmittedModel } from './emitted.ts';

const CHANNELS = 48;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** x [5, 3, 48] -> one output per selection, and concats of selections and of x itself. */
function channelMoves(): Graph {
  return model('channel-moves', { input: [5, 3, CHANNELS] }, (x) => {
    const long = gather(x, [...range(2, 22), 30, ...range(33, 36), ...range(40, 48)], 'long'); // runs 20, 1, 3, 8
    const scattered = gather(
      x,
      range(0, CHANNELS).filter((c) => c % 3 !== 1),
      'scattered',
    ); // runs of 1 and 2
    const reordered = gather(x, [47, ...range(0, 17), 5, 5, 46], 'reordered'); // out of order, a run of 17, repeats
    const single = gather(x, [7], 'single');
    return [long, scattered, reordered, concat(x, single, x), concat(long, scattered, reordered)];
  });
}

describe('channel kernels', () => {
  const graph = channelMoves();
  let out: CompiledDir;
  const models: Record<string, EmittedModel> = {};
  beforeAll(async () => {
    out = await compileToScratch(graph);
    for (const runtime of ['plan', 'engine'] as const) models[runtime] = await out.exports.load({ runtime });
  });
  afterAll(async () => {
    for (const m of Object.values(models)) m.dispose();
    await out?.cleanup();
  });

  it('the module runs every selection and concat with its own copies, on both runtimes', () => {
    const js = out.compiled.module.js;
    expect(out.compiled.lowered.nodes.filter((n) => n.op === 'gather')).toHaveLength(4);
    expect(js).toContain("runKernel('SlimcGatherChannels'");
    expect(js).toContain("runKernel('SlimcConcatChannels'");
    const steps = out.compiled.module.forward.plan.steps.map((s) => s.op);
    expect(steps.filter((op) => op === 'gather')).toHaveLength(4);
    expect(steps.filter((op) => op === 'copy')).toHaveLength(2);
  });

  it.each([
    ['plan', 1],
    ['plan', 2],
    ['engine', 1],
    ['engine', 2],
  ] as const)('copies exactly what the interpreter selects (%s runtime, batch %i)', async (runtime, batch) => {
    const m = models[runtime];
    expect(m.info.runtime.name).toBe(runtime);
    const [input] = graphInputs(graph);
    const rng = new Rng(batch);
    const x = rng.fill(batch * input.type.shape.slice(1).reduce((a, b) => a * b, 1), () => rng.normal());
    const expected = await interpret(graph, x);
    const actual = (await m.predict(x)) as Record<string, Float32Array>;
    const names = m.info.outputs.map((o) => o.name);
    expect(names).toHaveLength(5);
    names.forEach((name, i) => expect(Array.from(actual[name]), name).toEqual(Array.from(expected[i])));
  });
});
