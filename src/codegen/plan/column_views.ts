// Column views: concats and channel selections that cost nothing. A pruned DenseNet block is a
// chain concat_{i+1} = concat(select(concat_i), conv_{i+1}): copied as written, every layer copies
// the whole growing concat twice (the selection, then the concat), and those copies took 11% of a
// DenseNet-40 pruned at 0.7. Here such values become views: channel columns of one shared buffer
// per chain, whose pixels hold every column the chain ever made. A concat appends the columns of
// its inputs that are not in the buffer yet (one copy of those few channels) and is otherwise
// free; a selection is its input's columns, picked; a gather from a view gathers from the buffer
// at the composed columns. Only values whose every reader is a gather or a concat become views
// (those steps read channels through index lists), so no other step ever sees one. A conv whose
// only reader is such a concat writes its output into the buffer's columns itself (in place):
// no copy at all for a DenseNet layer's new channels.
import { usersOf } from '../../ir/node.ts';
import type { Graph, Node, ValueId } from '../../ir/types.ts';

/** A value that is some channels (columns) of a shared buffer, in order. */
export interface ColumnView {
  readonly buffer: number;
  readonly columns: readonly number[];
}

/** Channels of `input` put into the buffer's columns from `column` on: copied at the concat, or written there by the conv making them (in place). */
export interface ColumnWrite {
  readonly input: ValueId;
  readonly column: number;
  readonly inPlace: boolean;
}

export interface ColumnBuffer {
  /** The node at which the buffer is first written. */
  first: number;
  /** Per-sample shape of the concat that opened it; its last axis grows to `width`. */
  readonly shape: readonly number[];
  width: number;
}

export interface ColumnViews {
  readonly views: ReadonlyMap<ValueId, ColumnView>;
  /** Per concat that is a view: its inputs not already in its buffer, copied there. */
  readonly writes: ReadonlyMap<ValueId, readonly ColumnWrite[]>;
  readonly buffers: readonly ColumnBuffer[];
  /** Convs that write their output into a buffer's columns, by their value. */
  readonly inPlace: ReadonlyMap<ValueId, { readonly buffer: number; readonly column: number }>;
}

const readsByColumns = (n: Node) => n.op === 'gather' || n.op === 'concat';
const channels = (shape: readonly number[]) => shape[shape.length - 1];

/**
 * The column views of `graph` (nodes in order). `unviewable` lists gathers that must stay steps
 * (those fused with the norm after them).
 */
export function columnViews(graph: Graph, unviewable: ReadonlySet<ValueId>): ColumnViews {
  const users = usersOf(graph);
  const outputs = new Set(graph.outputs);
  const views = new Map<ValueId, ColumnView>();
  const writes = new Map<ValueId, ColumnWrite[]>();
  const buffers: ColumnBuffer[] = [];
  const inPlace = new Map<ValueId, { buffer: number; column: number }>();
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const producers = new Map(graph.nodes.map((n, i) => [n.id, [n, i] as const]));
  // A dense conv read only by this concat (once) can write straight into the buffer.
  const writesInPlace = (x: ValueId) => {
    const [producer] = producers.get(x) ?? [];
    return producer?.op === 'conv2d' && producer.groups === 1 && !outputs.has(x) && users.get(x)?.length === 1;
  };
  // A view is only made where every reader takes channels through an index list.
  const viewable = (n: Node) => !outputs.has(n.id) && (users.get(n.id) ?? []).every(readsByColumns);

  graph.nodes.forEach((node, i) => {
    if (node.op === 'gather' && !unviewable.has(node.id) && viewable(node)) {
      const from = views.get(node.input);
      if (from !== undefined) views.set(node.id, { buffer: from.buffer, columns: node.indices.map((k) => from.columns[k]) });
      return;
    }
    if (node.op !== 'concat' || !viewable(node) || (users.get(node.id) ?? []).length === 0) return;
    const first = node.inputs.map((x) => views.get(x)).find((view) => view !== undefined);
    let buffer = first?.buffer;
    if (buffer === undefined) {
      buffer = buffers.length;
      buffers.push({ first: i, shape: node.type.shape.slice(1), width: 0 });
    }
    const into = buffers[buffer];
    const columns: number[] = [];
    const appended: ColumnWrite[] = [];
    for (const x of node.inputs) {
      const view = views.get(x);
      if (view !== undefined && view.buffer === buffer) {
        columns.push(...view.columns);
        continue;
      }
      const width = channels(types.get(x)?.shape ?? [0]);
      const direct = view === undefined && writesInPlace(x);
      appended.push({ input: x, column: into.width, inPlace: direct });
      if (direct) {
        inPlace.set(x, { buffer, column: into.width });
        into.first = Math.min(into.first, producers.get(x)?.[1] ?? into.first);
      }
      for (let c = 0; c < width; c++) columns.push(into.width + c);
      into.width += width;
    }
    views.set(node.id, { buffer, columns });
    writes.set(node.id, appended);
  });
  return { views, writes, buffers, inPlace };
}
