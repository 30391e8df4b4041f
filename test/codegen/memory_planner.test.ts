// The plan's memory planner, without a backend: buffers alive at the same step never share a
// float, the arena is never smaller than the most memory alive at one step, and on the paper's
// networks the plan needs far less than one buffer per value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitModule } from '../../src/codegen/module_source.ts';
import { ALIGNMENT, findOverlap, planMemory, type BufferRequest } from '../../src/codegen/plan/memory_planner.ts';
import { lowerGraph } from '../../src/passes/lower/index.ts';
import { SMALL_NETS } from './nets.ts';

const request = fc
  .record({ size: fc.integer({ min: 0, max: 5000 }), first: fc.integer({ min: -1, max: 40 }), span: fc.integer({ min: 0, max: 15 }) })
  .map(({ size, first, span }): BufferRequest => ({ size, first, last: first + span }));

/** The most floats alive at one step: no placement can do with less. */
function peakAlive(requests: readonly BufferRequest[]): number {
  let peak = 0;
  for (let t = -1; t <= 60; t++)
    peak = Math.max(
      peak,
      requests.filter((r) => r.first <= t && t <= r.last).reduce((a, r) => a + r.size, 0),
    );
  return peak;
}

describe('planMemory', () => {
  it('never overlaps buffers alive at the same step, aligns them, and needs at least the peak alive', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 40 }), (requests) => {
        const plan = planMemory(requests);
        expect(findOverlap(requests, plan)).toBeNull();
        expect(plan.offsets.every((o) => o % ALIGNMENT === 0)).toBe(true);
        expect(plan.arena).toBeGreaterThanOrEqual(peakAlive(requests));
        requests.forEach((r, i) => expect(plan.offsets[i] + r.size).toBeLessThanOrEqual(plan.arena));
      }),
      { seed: 9, numRuns: 200 },
    );
  });

  it('reuses memory: a chain of equal buffers fits in two', () => {
    const chain = Array.from({ length: 10 }, (_, i): BufferRequest => ({ size: 64, first: i, last: i + 1 }));
    expect(planMemory(chain).arena).toBe(128);
  });

  it('gives a pre-activation ResNet an arena under half of one buffer per value', () => {
    const plan = emitModule(lowerGraph(SMALL_NETS['resnet-preact']())).forward.plan;
    const total = plan.slots.reduce((a, s) => a + s.size, 0);
    expect(plan.arena * 2).toBeLessThan(total);
    // In place: some adds and relus write over their input's slot.
    expect(new Set(plan.values.map((v) => v.slot)).size).toBeLessThan(plan.values.length);
  });
});
