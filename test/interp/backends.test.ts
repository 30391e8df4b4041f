// The same kernels on the wasm backend and on tfjs-backend-cpu (plain JavaScript) must give
// the same numbers on seeded random graphs: a second opinion on the wasm binaries beside the
// hand-computed op tests.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { backendInfo, initBackend } from '../../src/interp/backend.ts';
import { interpret } from '../../src/interp/interpret.ts';
import { randomGraph, randomInput } from './random-graph.ts';
import { expectClose } from './tiny.ts';

afterAll(() => initBackend('wasm'));

describe('wasm against cpu', () => {
  it.each([1, 2, 3, 4])('random graph %i, batch 2: outputs agree within 1e-5', async (seed) => {
    const graph = randomGraph(seed);
    const input = randomInput(graph, 2, seed);
    await initBackend('wasm');
    const onWasm = await interpret(graph, input);
    await initBackend('cpu');
    expect(backendInfo()).toEqual({ name: 'cpu', variant: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    const onCpu = await interpret(graph, input);
    expect(onWasm.length).toBe(onCpu.length);
    onWasm.forEach((out, i) => {
      expect(out.every(Number.isFinite)).toBe(true);
      expectClose(out, onCpu[i], 1e-5);
    });
  });
});
