// A binary min-heap of non-negative integers: the rewrite driver's worklist of graph positions,
// so the node it looks at next is always the first pending one in graph order.
export class MinHeap {
  private readonly items: number[];

  /** `sorted`, if given, must be in ascending order (a sorted array is already a heap). */
  constructor(sorted: readonly number[] = []) {
    this.items = [...sorted];
  }

  get size(): number {
    return this.items.length;
  }

  push(x: number): void {
    const a = this.items;
    let i = a.push(x) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent] <= x) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = x;
  }

  /** The smallest item, removed; undefined when empty. */
  pop(): number | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= a.length) break;
        const child = left + 1 < a.length && a[left + 1] < a[left] ? left + 1 : left;
        if (a[child] >= last) break;
        a[i] = a[child];
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
}
