// Small graphs with hand-chosen weights, for tests whose expected numbers are computed by hand.
import { expect } from 'vitest';
import { model, type AnyValue, type Value } from '../../src/frontends/dsl.ts';
import type { Activation, Graph, Weight } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { interpret } from '../../src/interp/interpret.ts';

/**
 * The graph `body` builds on one [h, w, c] input, with every weight replaced by the given flat
 * numbers (HWIO for conv filters, [in, out] for dense). Naming a weight the graph lacks, or
 * leaving one out, fails: a typo must not leave the DSL's random initial values in place.
 */
export function tiny(
  input: readonly [number, number, number],
  body: (x: Value<4>) => AnyValue | readonly AnyValue[],
  weights: Readonly<Record<string, readonly number[]>> = {},
): Graph {
  const built = model('tiny', { input }, body);
  const names = Object.keys(built.weights);
  expect(Object.keys(weights).sort()).toEqual(names.sort());
  const replaced: Record<string, Weight> = {};
  for (const name of names) {
    const { shape } = built.weights[name];
    expect(weights[name].length, `@${name} has shape [${shape}]`).toBe(shape.reduce((a, b) => a * b, 1));
    replaced[name] = { shape, data: Float32Array.from(weights[name]) };
  }
  return verify({ ...built, weights: replaced });
}

/** The graph with the fused activation of conv2d/dense node `id` set (the DSL emits 'none'). */
export function withActivation(graph: Graph, id: string, activation: Activation): Graph {
  expect(graph.nodes.some((n) => n.id === id && (n.op === 'conv2d' || n.op === 'dense'))).toBe(true);
  return verify({
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === id && (n.op === 'conv2d' || n.op === 'dense') ? { ...n, activation } : n)),
  });
}

/** Runs a single-output graph on one flat NHWC input and returns the output as numbers. */
export async function run(graph: Graph, input: readonly number[]): Promise<number[]> {
  const [out] = await interpret(graph, Float32Array.from(input));
  return Array.from(out);
}

/** 1, 2, ..., n (optionally negated): the row-major image every conv test starts from. */
export const seq = (n: number, sign = 1): number[] => Array.from({ length: n }, (_, i) => sign * (i + 1));

/** A flat NHWC image of one sample whose value at (h, w, c) is value(h, w, c). */
export function nhwc(h: number, w: number, c: number, value: (h: number, w: number, c: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out.push(value(i, j, k));
  return out;
}

/** Elementwise |actual - expected| <= tol * max(1, |expected|), with the first mismatch named. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const bound = tol * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
      expect.fail(
        `element ${i}: got ${actual[i]}, expected ${expected[i]} (tolerance ${bound})\n  got      [${Array.from(actual).join(', ')}]\n  expected [${Array.from(expected).join(', ')}]`,
      );
    }
  }
}
