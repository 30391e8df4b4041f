// evalNode is built from differentiable tfjs ops, and runGraph's disposal at last use does not
// break the gradient tape: training reuses both under tf.variableGrads with weights as
// variables. Checked on the cpu backend (plain JavaScript kernels) against finite differences.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/interp/backend.ts';
import { runGraph } from '../../src/interp/interpret.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { Rng } from '../../src/util/random.ts';
import { randomGraph, randomInput } from './random-graph.ts';

// tfjs registers no gradients by itself, and its conv gradient refuses dilations: training's
// setup supplies both, as it does for real training runs.
beforeAll(() => prepareTraining('cpu'));
afterAll(() => initBackend('wasm'));

describe('gradients through runGraph', () => {
  // Seeds whose loss has no relu/max-pool kink within 1e-3 of the weights along the probe
  // direction; across a kink a finite difference is off by O(eps), whatever the gradient.
  it.each([1, 3])('random graph %i: every weight gets a gradient, matching a central difference', (seed) => {
    const graph = randomGraph(seed);
    const names = Object.keys(graph.weights);
    const shapeOf = (n: string) => [...graph.weights[n].shape];
    const x = tf.tensor(randomInput(graph, 2, seed), [2, ...graph.nodes[0].type.shape.slice(1)]);
    const loss = (lookup: (name: string) => tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const [logits, features] = runGraph(graph, { x }, lookup);
        return tf.add(tf.sum(tf.square(logits)), tf.sum(tf.square(features)));
      });
    const variables = new Map(names.map((n) => [n, tf.variable(tf.tensor(graph.weights[n].data, shapeOf(n)), true, `${n}#${seed}`)]));
    const before = tf.memory().numTensors;

    const { value, grads } = tf.variableGrads(() => loss((n) => variables.get(n) as tf.Variable));
    expect(Object.keys(grads).sort()).toEqual(names.map((n) => `${n}#${seed}`).sort());

    // Directional derivative along a random direction d: <grad, d> against
    // (loss(w + eps d) - loss(w - eps d)) / (2 eps).
    const rng = new Rng(seed);
    const direction = new Map(names.map((n) => [n, rng.fill(graph.weights[n].data.length, () => rng.normal())]));
    let analytic = 0;
    for (const n of names) {
      const g = grads[`${n}#${seed}`].dataSync();
      expect(g.every(Number.isFinite)).toBe(true);
      direction.get(n)?.forEach((d, i) => (analytic += g[i] * d));
    }
    const eps = 1e-3;
    const lossAt = (sign: number) => {
      const shifted = new Map(
        names.map((n) => [
          n,
          tf.tensor(
            graph.weights[n].data.map((w, i) => w + sign * eps * (direction.get(n) as Float32Array)[i]),
            shapeOf(n),
          ),
        ]),
      );
      const l = loss((n) => shifted.get(n) as tf.Tensor);
      const v = l.dataSync()[0];
      l.dispose();
      shifted.forEach((t) => t.dispose());
      return v;
    };
    const numeric = (lossAt(1) - lossAt(-1)) / (2 * eps);
    expect(Math.abs(numeric - analytic)).toBeLessThan(1e-2 * Math.abs(analytic));

    value.dispose();
    Object.values(grads).forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    variables.forEach((v) => v.dispose());
    x.dispose();
  });
});
