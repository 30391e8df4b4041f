// The interpreter's contract: batch handling, input validation, tensor ownership and disposal,
// weight caches, and the backend it reports.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelBuilder, relu, add } from '../../src/frontends/dsl.ts';
import { SlimcError } from '../../src/ir/errors.ts';
import type { Graph, Node } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { backendInfo, initBackend } from '../../src/interp/backend.ts';
import { interpret, runGraph } from '../../src/interp/interpret.ts';
import { WeightTensors } from '../../src/interp/weight-tensors.ts';
import { randomGraph, randomInput } from './random-graph.ts';
import { expectClose, tiny } from './tiny.ts';

beforeAll(() => initBackend('wasm'));

const reluGraph = () => tiny([3, 3, 1], (x) => relu(x));

/** A verified graph %x, %y -> add(%x, %y), both inputs [N,1,1,2]. */
function twoInputGraph(): Graph {
  const b = new ModelBuilder('two', 1);
  const x = b.push({ op: 'input', id: 'x', type: f32([1, 1, 1, 2]) }, 4);
  const y = b.push({ op: 'input', id: 'y', type: f32([1, 1, 1, 2]) }, 4);
  const sum = add(x, y);
  return verify({ name: 'two', nodes: b.nodes, outputs: [sum.id], weights: b.weights });
}

/** A chain x -> scale_shift -> ... (depth times) with one scale weight per step. */
function scaleChain(depth: number): Graph {
  const nodes: Node[] = [{ op: 'input', id: 'x', type: f32([1, 2, 2, 3]) }];
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (let i = 1; i <= depth; i++) {
    weights[`s${i}`] = { shape: [3], data: Float32Array.of(1, 2, 0.5) };
    nodes.push({
      op: 'scale_shift',
      id: `v${i}`,
      type: f32([1, 2, 2, 3]),
      input: i === 1 ? 'x' : `v${i - 1}`,
      scale: `s${i}`,
      shift: null,
    });
  }
  return verify({ name: 'chain', nodes, outputs: [`v${depth}`], weights });
}

describe('batch size', () => {
  it.each([1, 2])('random graph %i: a batch of 3 gives the per-sample results of three runs of 1', async (seed) => {
    const graph = randomGraph(seed);
    const input = randomInput(graph, 3, seed);
    const perSample = input.length / 3;
    const batched = await interpret(graph, input);
    expect(batched.map((o) => o.length)).toEqual([15, 12]);
    for (let i = 0; i < 3; i++) {
      const single = await interpret(graph, input.slice(i * perSample, (i + 1) * perSample));
      expectClose(batched[0].slice(i * 5, (i + 1) * 5), single[0]);
      expectClose(batched[1].slice(i * 4, (i + 1) * 4), single[1]);
    }
  });

  it('reads N off the input length and checks it against opts.batch', async () => {
    const [out] = await interpret(reluGraph(), new Float32Array(18).fill(-1));
    expect(out).toEqual(new Float32Array(18));
    await expect(interpret(reluGraph(), new Float32Array(18), { batch: 3 })).rejects.toThrow(/has batch 2 but the stated batch is 3/);
  });

  it('runs the same way from a tensor input, which stays the caller’s', async () => {
    const x = tf.tensor(Float32Array.of(-1, 2, -3, 4, -5, 6, -7, 8, -9), [1, 3, 3, 1]);
    const [out] = await interpret(reluGraph(), x);
    expect(Array.from(out)).toEqual([0, 2, 0, 4, 0, 6, 0, 8, 0]);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });
});

describe('input validation', () => {
  it('a length that is not a multiple of the sample size names the input and its shape', async () => {
    const run = interpret(reluGraph(), new Float32Array(10));
    await expect(run).rejects.toThrow(SlimcError);
    await expect(interpret(reluGraph(), new Float32Array(10))).rejects.toThrow(
      '%x: expects shape [N,3,3,1] (9 floats per sample), got 10 floats, which is not a positive multiple of 9',
    );
    await expect(interpret(reluGraph(), new Float32Array(0))).rejects.toThrow(/got 0 floats/);
  });

  it('an input name the graph lacks lists the inputs it has', async () => {
    await expect(interpret(reluGraph(), { y: new Float32Array(9) })).rejects.toThrow(
      "graph 'tiny' has no input %y; it takes %x: f32[N,3,3,1]",
    );
  });

  it('a missing input is named', async () => {
    await expect(interpret(twoInputGraph(), { x: new Float32Array(2) })).rejects.toThrow('input %y: f32[N,1,1,2] is not given');
  });

  it('a graph of several inputs takes them by name, and only so', async () => {
    const [sum] = await interpret(twoInputGraph(), { x: Float32Array.of(1, 2, 3, 4), y: Float32Array.of(10, 20, 30, 40) });
    expect(Array.from(sum)).toEqual([11, 22, 33, 44]);
    await expect(interpret(twoInputGraph(), new Float32Array(2))).rejects.toThrow(/has 2 inputs .*pass them by name/);
    await expect(interpret(twoInputGraph(), { x: new Float32Array(2), y: new Float32Array(4) })).rejects.toThrow(
      '%y: has batch 2 but %x has batch 1',
    );
  });

  it('a tensor of the wrong shape is refused', async () => {
    const x = tf.zeros([1, 3, 1, 3]);
    expect(() => runGraph(reluGraph(), { x })).toThrow('%x: expects a tensor of shape [N,3,3,1], got [1,3,1,3]');
    x.dispose();
  });
});

describe('tensor ownership and disposal', () => {
  it('leaves no tensor behind, and never disposes the caller’s inputs', () => {
    const graph = randomGraph(3);
    const before = tf.memory().numTensors;
    const x = tf.tensor(randomInput(graph, 2, 3), [2, ...graph.nodes[0].type.shape.slice(1)]);
    const outputs = runGraph(graph, { x });
    expect(outputs.map((t) => t.shape)).toEqual([
      [2, 5],
      [2, 4],
    ]);
    expect(x.isDisposed).toBe(false);
    outputs.forEach((t) => t.dispose());
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an output that is an input comes back as a separate copy', () => {
    const base = reluGraph();
    const graph = verify({ ...base, outputs: ['x', base.outputs[0]] });
    const before = tf.memory().numTensors;
    const x = tf.tensor(Float32Array.of(-1, 2, -3, 4, -5, 6, -7, 8, -9), [1, 3, 3, 1]);
    const [same, r2] = runGraph(graph, { x });
    expect(same).not.toBe(x);
    expect(Array.from(r2.dataSync())).toEqual([0, 2, 0, 4, 0, 6, 0, 8, 0]);
    same.dispose();
    expect(Array.from(x.dataSync())).toEqual([-1, 2, -3, 4, -5, 6, -7, 8, -9]);
    r2.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees each intermediate at its last use: live tensors stay constant along a chain', () => {
    const depth = 20;
    const graph = scaleChain(depth);
    const cache = new WeightTensors(graph.weights);
    for (const name of Object.keys(graph.weights)) cache.get(name);
    const live: number[] = [];
    const x = tf.ones([1, 2, 2, 3]);
    const [y] = runGraph(graph, { x }, (name) => {
      live.push(tf.memory().numTensors);
      return cache.get(name);
    });
    // Every step sees the input, the previous value and the weights: nothing accumulates.
    expect(new Set(live.slice(1)).size).toBe(1);
    expect(live[depth - 1]).toBeLessThanOrEqual(live[0] + 1);
    expect(Array.from(y.dataSync())).toEqual(Array.from({ length: 12 }, (_, i) => [1, 2 ** depth, 0.5 ** depth][i % 3]));
    y.dispose();
    x.dispose();
    cache.dispose();
  });

  it('a value nobody reads is computed and freed at once', () => {
    const base = reluGraph();
    const dead: Node = { op: 'relu', id: 'unused', type: f32([1, 3, 3, 1]), input: 'x' };
    const graph: Graph = { ...base, nodes: [...base.nodes, dead] };
    const before = tf.memory().numTensors;
    const x = tf.ones([1, 3, 3, 1]);
    runGraph(graph, { x }).forEach((t) => t.dispose());
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a failure midway disposes the live intermediates and names the missing weight', () => {
    const chain = scaleChain(3);
    const { s3: _dropped, ...weights } = chain.weights;
    const broken: Graph = { ...chain, weights };
    const before = tf.memory().numTensors;
    const x = tf.ones([1, 2, 2, 3]);
    expect(() => runGraph(broken, { x })).toThrow('@s3: weight is not in the graph');
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a kernel result that disagrees with the declared type is an error naming the node', async () => {
    const base = reluGraph();
    const wrong: Graph = { ...base, nodes: base.nodes.map((n) => (n.op === 'relu' ? { ...n, type: f32([1, 9, 1, 1]) } : n)) };
    await expect(interpret(wrong, new Float32Array(9))).rejects.toThrow(
      '%relu1: relu: computed shape [1,3,3,1], but the node declares [1,9,1,1]',
    );
  });
});

describe('weight tensors', () => {
  it('a WeightTensors cache is reused across runs and freed by its owner', async () => {
    const graph = randomGraph(1);
    const input = randomInput(graph, 1, 7);
    const fresh = await interpret(graph, input);
    const before = tf.memory().numTensors;
    const cache = new WeightTensors(graph.weights);
    const first = await interpret(graph, input, { params: cache });
    const made = cache.size;
    expect(made).toBe(Object.keys(graph.weights).length);
    const second = await interpret(graph, input, { params: cache });
    expect(cache.size).toBe(made);
    expect(tf.memory().numTensors).toBe(before + made);
    expect(first).toEqual(fresh);
    expect(second).toEqual(fresh);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a cache made from other weights is refused, naming the weight', async () => {
    const graph = randomGraph(1);
    const other = randomGraph(2);
    const cache = new WeightTensors(other.weights);
    await expect(interpret(graph, randomInput(graph, 1, 1), { params: cache })).rejects.toThrow(
      /^@stem\.w: the WeightTensors cache was made from other weights/,
    );
    cache.dispose();
  });

  it('a lookup of variables (as in training) reads them and never disposes them', () => {
    const graph = scaleChain(2);
    const variables = new Map(Object.entries(graph.weights).map(([name, w]) => [name, tf.variable(tf.tensor(w.data, [...w.shape]))]));
    const x = tf.ones([1, 2, 2, 3]);
    const [y] = runGraph(graph, { x }, (name) => variables.get(name) as tf.Variable);
    expect(Array.from(y.dataSync()).slice(0, 3)).toEqual([1, 4, 0.25]);
    for (const v of variables.values()) expect(v.isDisposed).toBe(false);
    y.dispose();
    x.dispose();
    variables.forEach((v) => v.dispose());
  });
});

describe('backend', () => {
  it('initBackend is idempotent and reports the wasm build that runs', async () => {
    await initBackend('wasm');
    await initBackend();
    const info = backendInfo();
    expect(info.name).toBe('wasm');
    // Node 20 has WebAssembly SIMD, so the SIMD binary must be the one running.
    expect(info.simd).toBe(true);
    expect(info.variant === 'wasm-simd' || info.variant === 'wasm-threaded-simd').toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(tf.getBackend()).toBe('wasm');
  });
});
