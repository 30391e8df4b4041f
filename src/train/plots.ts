// Pictures as standalone SVG text (no dependency): the distribution of |gamma| over all BN
// layers (the paper's Figure 4, before and after sparsity training side by side, with the pruning
// threshold marked) and the channels each layer keeps after pruning. train and slim write them as
// files; report.html embeds them inline.
import { bnWeightNames } from '../ir/node.ts';
import type { Graph } from '../ir/types.ts';
import { escapeMarkup as escape } from '../report/escape.ts';

/** |gamma| of every BN channel of the graph. */
export function absGammas(graph: Graph): number[] {
  return graph.nodes.flatMap((n) => (n.op === 'batch_norm' ? Array.from(graph.weights[bnWeightNames(n.params).gamma].data, Math.abs) : []));
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toFixed(2) : v.toExponential(0));

export interface Series {
  readonly label: string;
  readonly values: readonly number[];
  /** The global pruning threshold, marked as a line (channels at or below it are dropped). */
  readonly threshold?: number;
}

/** One histogram panel per series, sharing the x range [0, max |gamma|] and `bins` bins. */
export function gammaHistogramSvg(
  series: readonly Series[],
  title = 'Distribution of BN scaling factors |gamma|',
  bins = 40,
  panel: { readonly width: number; readonly height: number } = { width: 360, height: 220 },
): string {
  const panelW = panel.width;
  const panelH = panel.height;
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
        (s.threshold === undefined
          ? ''
          : thresholdMark(s.values, s.threshold, x0 + (s.threshold / max) * panelW, y0, panelH, x0 + panelW / 2)) +
        `<line x1="${x0}" y1="${y0 + panelH}" x2="${x0 + panelW}" y2="${y0 + panelH}" stroke="#000"/>` +
        `<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y0 + panelH}" stroke="#000"/>` +
        `${bars}${ticks}${yTicks}` +
        `<text x="${x0 + panelW / 2}" y="${y0 + panelH + 34}" text-anchor="middle">|gamma|</text></g>`,
    );
  });
  return svg(width, height, title, parts.join(''));
}

/** The threshold line, its value, and how many channels fall at or below it. */
function thresholdMark(values: readonly number[], threshold: number, x: number, y0: number, panelH: number, middle: number): string {
  const dropped = values.filter((v) => v <= threshold).length;
  const anchor = x < middle ? 'start' : 'end';
  const dx = x < middle ? 5 : -5;
  return (
    `<line class="threshold" x1="${x.toFixed(1)}" y1="${y0 - 2}" x2="${x.toFixed(1)}" y2="${y0 + panelH}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="4 3"/>` +
    `<text x="${(x + dx).toFixed(1)}" y="${y0 + 12}" text-anchor="${anchor}" fill="#c0392b">threshold ${threshold.toPrecision(3)}</text>` +
    `<text x="${(x + dx).toFixed(1)}" y="${y0 + 26}" text-anchor="${anchor}" fill="#c0392b">${dropped} of ${values.length} at or below: dropped</text>`
  );
}

export interface KeptLayer {
  readonly name: string;
  readonly before: number;
  /** Channels in the compact graph. */
  readonly after: number;
  /** Channels the selection keeps, when it differs from what is drawn as `after` (shown as "kept"). */
  readonly selected?: number;
}

/**
 * Per-layer bars in network order: channels before pruning (light), kept by the selection (dark)
 * and, where the compact graph holds a different count (a residual add keeps a channel another
 * member of its group needs; a dead branch keeps none), a tick at the compact count. Each row's
 * name and counts sit on one line.
 */
export function keptChannelsSvg(layers: readonly KeptLayer[], title = 'Channels kept per BN layer'): string {
  const rowH = 18;
  const labelW = Math.max(80, 7 * Math.max(0, ...layers.map((l) => l.name.length)));
  const barMax = 420;
  const margin = { top: 40, bottom: 16 };
  const width = labelW + barMax + 190;
  const height = margin.top + layers.length * rowH + margin.bottom;
  const most = Math.max(1, ...layers.map((l) => l.before));
  const rows = layers
    .map((l, i) => {
      const y = margin.top + i * rowH;
      const kept = l.selected ?? l.after;
      const full = (l.before / most) * barMax;
      const keptW = (kept / most) * barMax;
      const compactX = labelW + (l.after / most) * barMax;
      const count =
        l.selected === undefined ? `${l.after}/${l.before}` : `kept ${kept}/${l.before}${l.after === kept ? '' : `, compact ${l.after}`}`;
      return (
        `<g class="bn-row">` +
        `<text class="bn-name" x="${labelW - 6}" y="${y + 13}" text-anchor="end">${escape(l.name)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${full.toFixed(1)}" height="${rowH - 4}" fill="#c9d6e8"/>` +
        `<rect x="${labelW}" y="${y + 2}" width="${keptW.toFixed(1)}" height="${rowH - 4}" fill="#3b6ea5"/>` +
        (l.after === kept ? '' : `<rect x="${(compactX - 1).toFixed(1)}" y="${y}" width="2.5" height="${rowH}" fill="#e67e22"/>`) +
        `<text class="bn-count" x="${(labelW + Math.max(full, compactX - labelW) + 6).toFixed(1)}" y="${y + 13}">${count}</text>` +
        `</g>`
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
