// The optimizer's one-pass update against torch.optim.SGD's algorithm written out step by step
// (buffer None on the first step, then buf = m * buf + g), with weight decay, Nesterov and the
// L1 subgradient on chosen weights; checkpointed state continues the same trajectory.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/interp/backend.ts';
import { Sgd, type SgdOptions } from '../../src/train/optimizer.ts';

const start = { w: [0.5, -1.5, 0, 2], gamma: [0.3, -0.2, 0] };
const gradsAt = (step: number) => ({ w: [0.1 * step, -0.2, 0.05, 1], gamma: [0.01, 0.02 * step, -0.03] });

/** torch.optim.SGD (dampening 0) with grad += lambda * sign(p) on the L1 weights. */
function reference(o: SgdOptions, steps: number, lr: number, lambda: number, l1: string): Record<string, number[]> {
  const p: Record<string, number[]> = { w: [...start.w], gamma: [...start.gamma] };
  const buf: Record<string, number[] | undefined> = {};
  for (let s = 1; s <= steps; s++) {
    const grads = gradsAt(s);
    for (const name of ['w', 'gamma'] as const) {
      const g = grads[name].map((v, i) => v + (name === l1 ? lambda * Math.sign(p[name][i]) : 0) + o.weightDecay * p[name][i]);
      const b = buf[name] === undefined ? g : buf[name].map((v, i) => o.momentum * v + g[i]);
      buf[name] = b;
      const step = o.nesterov ? g.map((v, i) => v + o.momentum * b[i]) : b;
      p[name] = p[name].map((v, i) => v - lr * step[i]);
    }
  }
  return p;
}

function variables(): Map<string, tf.Variable> {
  return new Map([
    ['w', tf.variable(tf.tensor(start.w, [2, 2]))],
    ['gamma', tf.variable(tf.tensor1d(start.gamma))],
  ]);
}

function run(sgd: Sgd, vars: Map<string, tf.Variable>, from: number, to: number, lr: number, lambda: number): void {
  for (let s = from; s <= to; s++) {
    const g = gradsAt(s);
    const grads = { w: tf.tensor(g.w, [2, 2]), gamma: tf.tensor1d(g.gamma) };
    sgd.apply(vars, grads, lr, { weights: new Set(['gamma']), lambda });
    Object.values(grads).forEach((t) => t.dispose());
  }
}

const expectClose = (vars: Map<string, tf.Variable>, expected: Record<string, number[]>) => {
  for (const [name, v] of vars) Array.from(v.dataSync()).forEach((x, i) => expect(x, `${name}[${i}]`).toBeCloseTo(expected[name][i], 6));
};

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Sgd', () => {
  for (const options of [
    { momentum: 0.9, nesterov: true, weightDecay: 1e-4 },
    { momentum: 0.9, nesterov: false, weightDecay: 0.01 },
    { momentum: 0, nesterov: false, weightDecay: 0 },
  ]) {
    it(`follows torch.optim.SGD over 4 steps with the L1 subgradient (${JSON.stringify(options)})`, () => {
      const vars = variables();
      const before = tf.memory().numTensors;
      run(new Sgd(options), vars, 1, 4, 0.1, 0.05);
      expect(tf.memory().numTensors).toBe(before);
      expectClose(vars, reference(options, 4, 0.1, 0.05, 'gamma'));
      vars.forEach((v) => v.dispose());
    });
  }

  it('continues the same trajectory from its saved state, and leaves weights without a gradient alone', () => {
    const options = { momentum: 0.9, nesterov: true, weightDecay: 1e-4 };
    const vars = variables();
    const first = new Sgd(options);
    run(first, vars, 1, 2, 0.1, 0.05);
    const saved = first.state(vars);
    expect(Object.keys(saved).sort()).toEqual(['gamma', 'w']);
    const resumed = new Sgd(options);
    resumed.load(saved);
    run(resumed, vars, 3, 4, 0.1, 0.05);
    expectClose(vars, reference(options, 4, 0.1, 0.05, 'gamma'));

    const only = new Sgd(options);
    const g = tf.tensor1d([1, 1, 1]);
    const w = Array.from(vars.get('w')!.dataSync());
    only.apply(vars, { gamma: g }, 0.1);
    expect(Array.from(vars.get('w')!.dataSync())).toEqual(w);
    expect(Object.keys(only.state(vars))).toEqual(['gamma']);
    g.dispose();
    vars.forEach((v) => v.dispose());
  });
});
