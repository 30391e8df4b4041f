// The memory planner of the execution plan: every buffer (one or more IR values that share
// memory) gets an offset in one arena, so that two buffers alive at the same step never overlap.
// Greedy by size, as TFLite's and onnxruntime's arena planners do: the largest buffers are
// placed first, each at the lowest offset where it overlaps no placed buffer whose lifetime
// intersects its own. Sizes and offsets are in floats per sample: every value of a graph scales
// linearly with the batch, so the runtime multiplies the plan by N instead of planning again.

/** A buffer to place: alive from step `first` to step `last` (both inclusive). */
export interface BufferRequest {
  readonly size: number;
  readonly first: number;
  readonly last: number;
}

export interface MemoryPlan {
  /** offsets[i] is where request i starts, in floats per sample. */
  readonly offsets: readonly number[];
  /** The arena's size: the largest end of any placed buffer, in floats per sample. */
  readonly arena: number;
}

/** Every buffer starts at a multiple of this many floats per sample (64 bytes: a cache line). */
export const ALIGNMENT = 16;

const aligned = (n: number) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

const overlapsInTime = (a: BufferRequest, b: BufferRequest) => a.first <= b.last && b.first <= a.last;

/** Offsets for `requests`, greedy by size (ties: earlier first). */
export function planMemory(requests: readonly BufferRequest[]): MemoryPlan {
  const order = requests
    .map((_, i) => i)
    .sort((a, b) => requests[b].size - requests[a].size || requests[a].first - requests[b].first || a - b);
  const offsets: number[] = new Array<number>(requests.length).fill(0);
  const placed: number[] = [];
  let arena = 0;
  for (const i of order) {
    const request = requests[i];
    const size = aligned(request.size);
    // The placed buffers alive at the same time, by offset; the first gap that holds this one.
    const conflicts = placed.filter((j) => overlapsInTime(requests[j], request)).sort((a, b) => offsets[a] - offsets[b]);
    let offset = 0;
    for (const j of conflicts) {
      if (offsets[j] - offset >= size) break;
      offset = Math.max(offset, offsets[j] + aligned(requests[j].size));
    }
    offsets[i] = offset;
    placed.push(i);
    arena = Math.max(arena, offset + size);
  }
  return { offsets, arena };
}

/** Checks a plan: no two buffers alive at the same step share a float (for tests and asserts). */
export function findOverlap(requests: readonly BufferRequest[], plan: MemoryPlan): [number, number] | null {
  for (let a = 0; a < requests.length; a++) {
    for (let b = a + 1; b < requests.length; b++) {
      if (!overlapsInTime(requests[a], requests[b]) || requests[a].size === 0 || requests[b].size === 0) continue;
      const [oa, ob] = [plan.offsets[a], plan.offsets[b]];
      if (oa < ob + requests[b].size && ob < oa + requests[a].size) return [a, b];
    }
  }
  return null;
}
