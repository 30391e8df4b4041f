// Pictures as standalone SVG text (no dependency): the distribution of |gamma| over all BN
// layers (the paper's Figure 4, before and after sparsity training side by side) and the
// channels each layer keeps after pruning.
import { bnWeightNames } from '../ir/node.ts';
import type { Graph } from '../ir/types.ts';

/** |gamma| of every BN channel of the graph. */
export function absGammas(graph: Graph): number[] {
  return graph.nodes.flatMap((n) => (n.op === 'batch_norm' ? Array.from(graph.weights[bnWeightNames(n.params).gamma].data, Math.abs) : []));
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toFixed(2) : v.toExponential(0));

export interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

/** One histogram panel per series, sharing the x range [0, max |gamma|] and `bins` bins. */
export function gammaHistogramSvg(series: readonly Series[], title = 'Distribution of BN scaling factors |gamma|', bins = 40): string {
  const panelW = 360;
  const panelH = 220;
  const margin = { left: 56, right: 16, top: 48, bottom: 44 };
  const width = series.length * (panelW + margin.left + margin.right);
  const height = panelH + margin.top + margin.bottom;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const parts: string[] = [];
  series.forEach((s, k) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of s.values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]++;
    const top = Math.max(1, ...counts);
    const x0 = k * (panelW + margin.left + margin.right) + margin.left;
    const y0 = margin.top;
    const barW = panelW / bins;
    const bars = counts
      .map((c, i) => {
        const h = (c / top) * panelH;
        return `<rect x="${(x0 + i * barW).toFixed(1)}" y="${(y0 + panelH - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#3b6ea5"/>`;
      })
      .join('');
    const ticks = [0, 0.25, 0.5, 0.75, 1]
      .map((f) => `<text x="${(x0 + f * panelW).toFixed(1)}" y="${y0 + panelH + 16}" text-anchor="middle">${fmt(f * max)}</text>`)
      .join('');
    const yTicks = [0, 0.5, 1]
      .map((f) => `<text x="${x0 - 6}" y="${(y0 + panelH - f * panelH + 4).toFixed(1)}" text-anchor="end">${Math.round(f * top)}</text>`)
      .join('');
    parts.push(
      `<g><text x="${x0 + panelW / 2}" y="${y0 - 10}" text-anchor="middle" font-weight="bold">${escape(s.label)} (${s.values.length} channels)</text>` +
        `<line x1="${x0}" y1="${y0 + panelH}" x2="${x0 + panelW}" y2="${y0 + panelH}" stroke="#000"/>` +
        `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + panelH}" stroke="#000"/>` +
        `${bars}${ticks}${yTicks}` +
        `<text x="${x0 + panelW / 2}" y="${y0 + panelH + 34}" text-anchor="middle">|gamma|</text></g>`,
    );
  });
  return svg(width, height, title, parts.join(''));
}

export interface KeptLayer {
  readonly name: string;
  readonly before: number;
  readonly after: number;
}

/** Per-layer bars: channels before pruning (light) and kept (dark). */
export function keptChannelsSvg(layers: readonly KeptLayer[], title = 'Channels kept per BN layer'): string {
  const rowH = 18;
  const labelW = Math.max(80, 7 * Math.max(0, ...layers.map((l) => l.name.length)));
  const barMax = 420;
  const margin = { top: 40, bottom: 16 };
  const width = labelW + barMax + 120;
  const height = margin.top + layers.length * rowH + margin.bottom;
  const most = Math.max(1, ...layers.map((l) => l.before));
  const rows = layers
    .map((l, i) => {
      const y = margin.top + i * rowH;
      const full = (l.before / most) * barMax;
      const kept = (l.after / most) * barMax;
      return (
        `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${escape(l.name)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${full.toFixed(1)}" height="${rowH - 4}" fill="#c9d6e8"/>` +
        `<rect x="${labelW}" y="${y + 2}" width="${kept.toFixed(1)}" height="${rowH - 4}" fill="#3b6ea5"/>` +
        `<text x="${(labelW + full + 6).toFixed(1)}" y="${y + 13}">${l.after}/${l.before}</text>`
      );
    })
    .join('');
  return svg(width, height, title, rows);
}

function svg(width: number, height: number, title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n` +
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>\n` +
    `${body}\n</svg>\n`
  );
}
