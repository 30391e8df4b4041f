// The network as a picture: a layered drawing of the IR with each layer's channel width before
// and after pruning. Hand-written (no layout library): a CNN's IR is a DAG that is mostly a chain,
// so longest-path layering already reads well, and skip connections (residual adds, DenseNet
// concats) are routed as arcs in lanes beside the chain, where they cannot be missed.
//
// To keep the drawing readable, a batch_norm, relu or relu6 that is the only user of the node
// before it joins that node's box (conv -> bn -> relu is one box).
import { channelsOf, inputsOf, usersOf } from '../ir/node.ts';
import type { Graph, Node } from '../ir/types.ts';
import { escapeMarkup } from './escape.ts';

interface Box {
  readonly members: Node[];
  readonly inputs: number[];
  rank: number;
  x: number;
  y: number;
}

const FOLDED_INTO_BOX: ReadonlySet<Node['op']> = new Set(['batch_norm', 'relu', 'relu6']);
const BOX_W = 250;
const BOX_H = 36;
const ROW_GAP = 18;
const COL_GAP = 24;
const LANE_GAP = 12;
const MARGIN = 16;

/** Groups nodes into boxes; a folded op's box is its producer's. */
function boxesOf(graph: Graph): Box[] {
  const users = usersOf(graph);
  const boxOf = new Map<string, number>();
  const boxes: Box[] = [];
  for (const node of graph.nodes) {
    const inputs = inputsOf(node);
    if (FOLDED_INTO_BOX.has(node.op) && inputs.length === 1) {
      const producer = boxOf.get(inputs[0]);
      const box = producer === undefined ? undefined : boxes[producer];
      if (box && box.members[box.members.length - 1].id === inputs[0] && (users.get(inputs[0])?.length ?? 0) === 1) {
        box.members.push(node);
        boxOf.set(node.id, producer as number);
        continue;
      }
    }
    const from = [...new Set(inputs.map((v) => boxOf.get(v)).filter((b): b is number => b !== undefined))];
    const rank = from.reduce((r, b) => Math.max(r, boxes[b].rank + 1), 0);
    boxOf.set(node.id, boxes.length);
    boxes.push({ members: [node], inputs: from, rank, x: 0, y: 0 });
  }
  return boxes;
}

function opLabel(node: Node): string {
  switch (node.op) {
    case 'conv2d': {
      const kind = node.groups > 1 && node.groups === channelsOf(node.type.shape) ? 'dwconv' : 'conv';
      const stride = node.strides[0] > 1 || node.strides[1] > 1 ? `/${node.strides[0]}` : '';
      return `${kind} ${node.kernel[0]}x${node.kernel[1]}${stride}`;
    }
    case 'max_pool':
    case 'avg_pool':
      return `${node.op === 'max_pool' ? 'maxpool' : 'avgpool'} ${node.kernel[0]}x${node.kernel[1]}`;
    case 'global_avg_pool':
      return 'global avgpool';
    case 'add':
      return 'add (residual)';
    case 'concat':
      return 'concat';
    default:
      return node.op;
  }
}

const suffix = (op: Node['op']) => (op === 'batch_norm' ? 'bn' : op);
const shorten = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * An SVG of `source`'s layers in order from the input down; each box shows its channels in
 * `source` and in `compact` (matched by value name; a layer absent from `compact` was removed).
 * Without pruning, pass the same graph twice.
 */
export function networkGraphSvg(source: Graph, compact: Graph): string {
  const boxes = boxesOf(source);
  const compactChannels = new Map(compact.nodes.map((n) => [n.id, channelsOf(n.type.shape)]));
  // Layers that read their input through a channel selection the pruning inserted.
  const gathers = new Set(compact.nodes.filter((n) => n.op === 'gather').map((n) => n.id));
  const gathered = new Set(compact.nodes.filter((n) => inputsOf(n).some((v) => gathers.has(v))).map((n) => n.id));
  const pruned = compact !== source;

  // Rows by rank, boxes side by side in order of appearance.
  const rows: number[][] = [];
  boxes.forEach((b, i) => (rows[b.rank] ??= []).push(i));
  const rowWidth = (row: readonly number[]) => row.length * BOX_W + (row.length - 1) * COL_GAP;
  const chainWidth = Math.max(...rows.map(rowWidth));
  rows.forEach((row, r) => {
    const left = MARGIN + (chainWidth - rowWidth(row)) / 2;
    row.forEach((b, k) => {
      boxes[b].x = left + k * (BOX_W + COL_GAP);
      boxes[b].y = MARGIN + r * (BOX_H + ROW_GAP);
    });
  });

  // Edges between adjacent rows go straight down; longer ones take a lane on the right, reused
  // by arcs whose row spans do not overlap.
  const laneEnds: number[] = [];
  const edges: string[] = [];
  const laneBase = MARGIN + chainWidth + 14;
  boxes.forEach((to) => {
    for (const fromIndex of to.inputs) {
      const from = boxes[fromIndex];
      const x1 = from.x + BOX_W / 2;
      const y1 = from.y + BOX_H;
      if (to.rank === from.rank + 1) {
        const x2 = to.x + BOX_W / 2;
        const ym = (y1 + to.y) / 2;
        edges.push(`<path d="M${x1},${y1} C${x1},${ym} ${x2},${ym} ${x2},${to.y - 2}" class="edge" marker-end="url(#arrow)"/>`);
        continue;
      }
      let lane = laneEnds.findIndex((end) => end < from.rank);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = to.rank;
      const lx = laneBase + lane * LANE_GAP;
      const sy = from.y + BOX_H / 2;
      const ty = to.y + BOX_H / 2;
      const sx = from.x + BOX_W;
      const tx = to.x + BOX_W;
      edges.push(
        `<path d="M${sx},${sy} H${lx - 6} Q${lx},${sy} ${lx},${sy + 6} V${ty - 6} Q${lx},${ty} ${lx - 6},${ty} H${tx + 2}" class="edge skip" marker-end="url(#arrow)"/>`,
      );
    }
  });

  const drawn = boxes.map((box) => {
    const head = box.members[0];
    const last = box.members[box.members.length - 1];
    const before = channelsOf(last.type.shape);
    const afterOf = [...box.members].reverse().find((m) => compactChannels.has(m.id));
    const after = afterOf === undefined ? 0 : (compactChannels.get(afterOf.id) as number);
    const removed = afterOf === undefined;
    const kind = head.op === 'add' ? 'add' : head.op === 'concat' ? 'concat' : head.op === 'input' ? 'input' : 'layer';
    const extra = box.members
      .slice(1)
      .map((m) => `+${suffix(m.op)}`)
      .join(' ');
    const title = box.members.map((m) => `%${m.id} = ${m.op} : [${m.type.shape.join(',')}]`).join('\n');
    const spatial = last.type.shape.length === 4 ? `${last.type.shape[1]}x${last.type.shape[2]}, ` : '';
    const width = removed ? `${before} ch → removed` : pruned && after !== before ? `${before} → ${after} ch` : `${before} ch`;
    const read = gathered.has(head.id) ? ' · reads a gather' : '';
    const barW = BOX_W - 16;
    // The bar is the layer's own width: dark is the fraction of its channels the compact graph keeps.
    const beforeW = barW;
    const afterW = before === 0 ? 0 : (after / before) * barW;
    return (
      `<g class="node ${kind}${removed ? ' removed' : ''}"><title>${escapeMarkup(title)}</title>` +
      `<rect x="${box.x}" y="${box.y}" width="${BOX_W}" height="${BOX_H}" rx="5"/>` +
      `<text x="${box.x + 8}" y="${box.y + 13}"><tspan class="id">${escapeMarkup(shorten(`%${head.id}`, 18))}</tspan> ${escapeMarkup(shorten(`${opLabel(head)} ${extra}`, 30))}</text>` +
      `<text x="${box.x + 8}" y="${box.y + 25}" class="width">${escapeMarkup(`${spatial}${width}${read}`)}</text>` +
      `<rect class="bar-before" x="${box.x + 8}" y="${box.y + 29}" width="${beforeW.toFixed(1)}" height="3"/>` +
      `<rect class="bar-after" x="${box.x + 8}" y="${box.y + 29}" width="${afterW.toFixed(1)}" height="3"/>` +
      `</g>`
    );
  });

  const width = laneBase + laneEnds.length * LANE_GAP + MARGIN;
  const height = MARGIN * 2 + rows.length * (BOX_H + ROW_GAP) - ROW_GAP;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="network" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">` +
    `<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#667"/></marker></defs>` +
    `${edges.join('')}${drawn.join('')}</svg>`
  );
}
