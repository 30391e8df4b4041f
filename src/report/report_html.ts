// report.html: what pruning and compiling did to a model, as one self-contained page. No script,
// no font, no external resource (a Content-Security-Policy forbids them), so it opens from disk,
// offline, and a model cannot make it run anything: every string from the model goes through
// escapeMarkup. Pictures are inline SVG drawn here (plots.ts, graph_svg.ts); folding is <details>.
import type { CheckResult } from '../codegen/check.ts';
import type { Graph } from '../ir/types.ts';
import type { SlimReport, Totals } from '../passes/report.ts';
import { gammaHistogramSvg, keptChannelsSvg, type KeptLayer } from '../train/plots.ts';
import { escapeMarkup as esc } from './escape.ts';
import { networkGraphSvg } from './graph_svg.ts';
import type { Latency } from './latency.ts';
import type { PassDiff } from './pass_diffs.ts';
import { REPORT_STYLE } from './report_style.ts';

export const HTML_REPORT_FILE = 'report.html';

export interface FileSizes {
  /** The input model's weights as a .weights.bin (what `slimc prune -o` writes). */
  readonly irBefore: number;
  /** The compact model's weights as a .weights.bin. */
  readonly irAfter: number;
  /** The compiled module's model.weights.bin (null: no module, as for prune). */
  readonly module: number | null;
  /** The unpruned module's model.weights.bin, when it was compiled (--bench). */
  readonly unprunedModule: number | null;
}

export interface ReportInput {
  /** The command that wrote the report, e.g. 'slimc compile'. */
  readonly command: string;
  readonly compiler: string;
  readonly source: Graph;
  /** The pruned graph (the source itself when nothing was pruned). */
  readonly compact: Graph;
  readonly slim: SlimReport | null;
  readonly before: Totals;
  readonly after: Totals;
  /** The final IR the module runs (null: no module). */
  readonly emitted: Totals | null;
  /** Per BN layer in network order: channels before, kept by the selection, in the compact graph. */
  readonly channels: readonly { readonly name: string; readonly before: number; readonly selected: number; readonly after: number }[];
  /** |gamma| of every prunable BN channel. */
  readonly gammas: readonly number[];
  readonly sizes: FileSizes;
  readonly check: CheckResult | null;
  readonly latency: Latency | null;
  readonly slimmingPasses: readonly PassDiff[];
  readonly loweringPasses: readonly PassDiff[];
  readonly convention: string;
}

/** All diffs together stay under this many characters, so the file stays well under 2 MB. */
const DIFF_BUDGET = 900_000;

const count = (n: number) => n.toLocaleString('en-US');
const ratioText = (before: number, after: number) => (after === 0 ? '-' : `${(before / after).toFixed(2)}x smaller`);
const bytesText = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`);
const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

function card(value: string, label: string, tone = ''): string {
  return `<div class="card ${tone}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`;
}

function headline(r: ReportInput): string {
  const cards = [
    card(count(r.after.params), r.slim ? `params (${ratioText(r.before.params, r.after.params)})` : 'params'),
    card(count(r.after.macs), r.slim ? `MACs per sample (${ratioText(r.before.macs, r.after.macs)})` : 'MACs per sample'),
  ];
  if (r.sizes.module !== null) cards.push(card(bytesText(r.sizes.module), 'module weights file'));
  if (r.latency) {
    cards.push(
      r.latency.speedup === null
        ? card(`${r.latency.moduleMs.toFixed(3)} ms`, 'median predict, batch 1')
        : card(
            `${r.latency.speedup.toFixed(2)}x`,
            `faster than unpruned (${r.latency.moduleMs.toFixed(3)} vs ${r.latency.unprunedMs?.toFixed(3)} ms)`,
          ),
    );
  }
  if (r.check)
    cards.push(
      card(
        r.check.ok ? 'equivalent' : 'DIFFERS',
        `module vs interpreter, max diff ${r.check.maxAbsDiff.toExponential(2)}`,
        r.check.ok ? 'ok' : 'bad',
      ),
    );
  return `<div class="cards">${cards.join('')}</div>`;
}

function summary(r: ReportInput): string {
  const row = (label: string, before: string, after: string, ratio: string, emitted = '') =>
    `<tr><th>${esc(label)}</th><td>${esc(before)}</td><td>${esc(after)}</td><td>${esc(ratio)}</td>${r.emitted ? `<td>${esc(emitted)}</td>` : ''}</tr>`;
  const ratio = (before: number, after: number) => (before === 0 ? '-' : `${(after / before).toFixed(3)}`);
  // The cost figures, before and after pruning and of the emitted module, in one format each.
  const costRow = (label: string, figure: 'params' | 'macs' | 'flops', format: (n: number) => string) =>
    row(
      label,
      format(r.before[figure]),
      format(r.after[figure]),
      ratio(r.before[figure], r.after[figure]),
      r.emitted ? format(r.emitted[figure]) : '',
    );
  const scientific = (n: number) => n.toExponential(3);
  const rows = [
    costRow('params', 'params', count),
    costRow('MACs (per sample)', 'macs', count),
    costRow('FLOPs (2 x MACs)', 'flops', scientific),
    row(
      'IR weights file (.weights.bin)',
      bytesText(r.sizes.irBefore),
      bytesText(r.sizes.irAfter),
      ratio(r.sizes.irBefore, r.sizes.irAfter),
    ),
  ];
  if (r.sizes.module !== null) {
    const before = r.sizes.unprunedModule;
    rows.push(
      row(
        'module weights file (model.weights.bin)',
        before === null ? 'not compiled' : bytesText(before),
        bytesText(r.sizes.module),
        before === null ? '-' : ratio(before, r.sizes.module),
      ),
    );
  }
  if (r.latency) {
    const l = r.latency;
    rows.push(
      row(
        'latency, median predict, batch 1',
        l.unprunedMs === null ? '-' : `${l.unprunedMs.toFixed(3)} ms`,
        `${l.moduleMs.toFixed(3)} ms`,
        l.unprunedMs === null ? '-' : (l.moduleMs / l.unprunedMs).toFixed(3),
      ),
    );
  }
  const latencyNote = r.latency
    ? `<p class="note">Latency: the compiled module${r.latency.unprunedMs === null ? '' : ' and the unpruned module, interleaved run by run in one process'}, ` +
      `median of ${r.latency.runs} runs after ${r.latency.warmup} warm-up runs, on ${esc(r.latency.backend.variant)} with ${r.latency.backend.threads} thread(s). ` +
      `Measured when the report was written; a loaded machine gives slower but comparable figures.</p>`
    : `<p class="note">No latency: pass <code>--bench</code> to <code>slimc compile</code> to time the module against the unpruned one.</p>`;
  const moduleNote =
    r.sizes.module !== null && r.sizes.unprunedModule === null && r.slim
      ? `<p class="note">The unpruned module's weights file is measured with <code>--bench</code>, which compiles it.</p>`
      : '';
  return (
    `<table class="summary"><thead><tr><th></th><th>before</th><th>${r.slim ? 'after pruning' : 'after'}</th><th>after/before</th>${r.emitted ? '<th>final IR (module)</th>' : ''}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>` +
    `<p class="note">${esc(r.convention)}. The final IR has BatchNorms folded into conv biases, so its params differ from the compact graph's.</p>` +
    moduleNote +
    latencyNote
  );
}

function gammaSection(r: ReportInput): string {
  if (r.gammas.length === 0) return '<p>The model has no prunable BatchNorm layer.</p>';
  const threshold = r.slim?.threshold ?? undefined;
  const how =
    r.slim === null
      ? 'Nothing was pruned; the distribution shows what a pruning ratio would cut.'
      : threshold === undefined
        ? r.slim.ratio === null
          ? 'Channels were chosen by a masks file: no threshold.'
          : `Per-layer thresholds (ratio ${r.slim.ratio} in each layer): no global threshold to mark.`
        : `Global threshold ${threshold.toPrecision(4)} (ratio ${r.slim.ratio}): channels with |gamma| at or below it are dropped.`;
  return (
    `<p>${esc(how)}</p>` +
    `<div class="picture">${gammaHistogramSvg([{ label: 'prunable BN channels', values: r.gammas, threshold }], "Distribution of BN scaling factors |gamma| (as in the paper's Figure 4)", 60, { width: 760, height: 240 })}</div>`
  );
}

function channelsSection(r: ReportInput): string {
  const layers: KeptLayer[] = r.channels.map((c) => ({ name: c.name, before: c.before, selected: c.selected, after: c.after }));
  const before = r.channels.reduce((s, c) => s + c.before, 0);
  const selected = r.channels.reduce((s, c) => s + c.selected, 0);
  const after = r.channels.reduce((s, c) => s + c.after, 0);
  return (
    `<p>${r.channels.length} BN layers in network order: ${count(selected)} of ${count(before)} channels kept (${percent(selected, before)}), ` +
    `${count(after)} in the compact graph. Light: channels before; dark: kept by the selection; orange tick: the compact graph's count where it differs ` +
    `(a residual add keeps a channel another member of its group needs; a dead branch keeps none).</p>` +
    `<div class="picture">${keptChannelsSvg(layers, 'Channels per BN layer: before, kept, compact')}</div>`
  );
}

function diffBlock(d: PassDiff, budget: { left: number }): string {
  const changed = d.diff !== '';
  const stat = changed ? `+${d.added} -${d.removed} lines` : 'no change';
  if (!changed)
    return `<details class="pass" id="pass-${esc(d.name)}"><summary><b>${esc(d.name)}</b> <span class="stat">${esc(stat)}</span> <span class="desc">${esc(d.description)}</span></summary><p class="note">The IR prints the same after this pass.</p></details>`;
  const lines = d.diff.split('\n');
  const shown: string[] = [];
  let cut = 0;
  for (const [i, line] of lines.entries()) {
    if (budget.left < line.length) {
      cut = lines.length - i;
      break;
    }
    budget.left -= line.length + 1;
    const cls = line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
    shown.push(cls ? `<span class="${cls}">${esc(line)}</span>` : esc(line));
  }
  const more =
    cut > 0
      ? `<p class="note">${cut} more lines left out to keep this file small; <code>slimc compile --diff</code> prints them all.</p>`
      : '';
  return (
    `<details class="pass" id="pass-${esc(d.name)}"><summary><b>${esc(d.name)}</b> <span class="stat">${esc(stat)}</span> <span class="desc">${esc(d.description)}</span></summary>` +
    `<pre class="diff">${shown.join('\n')}</pre>${more}</details>`
  );
}

function diffSection(r: ReportInput): string {
  const budget = { left: DIFF_BUDGET };
  const group = (title: string, note: string, passes: readonly PassDiff[]) =>
    passes.length === 0 ? '' : `<h3>${esc(title)}</h3><p class="note">${esc(note)}</p>${passes.map((p) => diffBlock(p, budget)).join('')}`;
  return (
    `<p>The textual IR from the input to the final graph, one folded diff per pass (click a pass to unfold it).</p>` +
    group(
      'Network Slimming',
      'Selection masks the dropped channels; pruning rewrites the masked graph to the compact one.',
      r.slimmingPasses,
    ) +
    group('Lowering', 'Rewrites that prepare the compact graph for emission; they do not change what it computes.', r.loweringPasses) +
    (r.slimmingPasses.length + r.loweringPasses.length === 0 ? '<p>No passes ran.</p>' : '')
  );
}

function checkSection(r: ReportInput): string {
  if (!r.check) return `<p>Not run${r.command === 'slimc prune' ? ': prune writes no module (slimc compile runs the check)' : ''}.</p>`;
  const c = r.check;
  return (
    `<table class="check"><tbody>` +
    `<tr><th>result</th><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'equivalent within tolerance' : 'DIFFERS beyond tolerance'}</td></tr>` +
    `<tr><th>max |module - interpreter|</th><td>${c.maxAbsDiff.toExponential(3)}</td></tr>` +
    `<tr><th>tolerance</th><td>${c.tolerance.toExponential(3)} (1e-4 x max(1, max |reference| = ${c.maxAbsReference.toPrecision(4)}))</td></tr>` +
    `<tr><th>batch</th><td>${c.batch}</td></tr><tr><th>seed</th><td>${c.seed}</td></tr>` +
    `</tbody></table>` +
    `<p class="note">The emitted module and the reference interpreter ran on the same seeded random inputs; the reference is the ${r.slim ? 'masked original (gamma = beta = 0 on dropped channels)' : 'input graph'}.</p>`
  );
}

export function reportHtml(r: ReportInput): string {
  const name = r.source.name;
  const what = r.slim
    ? r.slim.ratio === null
      ? 'pruned by a masks file'
      : `pruned ${percent(
          r.channels.reduce((s, c) => s + c.before - c.selected, 0),
          r.channels.reduce((s, c) => s + c.before, 0),
        )} of BN channels (ratio ${r.slim.ratio})`
    : 'not pruned';
  const sections: [string, string, string][] = [
    ['summary', 'Summary', summary(r)],
    ['gamma', 'Scaling factors |gamma|', gammaSection(r)],
    ['channels', 'Channels per BN layer', channelsSection(r)],
    [
      'network',
      'The network',
      `<p>Each box is a layer of the input IR (a conv with its BN and ReLU is one box), with its output channels before and after pruning; arcs on the right are skip connections into residual adds and concats.</p><div class="picture scroll">${networkGraphSvg(r.source, r.compact)}</div>`,
    ],
    ['passes', 'IR, pass by pass', diffSection(r)],
    ['check', 'Equivalence check', checkSection(r)],
  ];
  const warnings = (r.slim?.warnings ?? []).map((w) => `<p class="warning">${esc(w)}</p>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`${name}: slimc report`)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>${esc(name)}</h1><p class="sub">${esc(`${r.command}, ${what}. ${r.compiler}.`)}</p>
<nav>${sections.map(([id, title]) => `<a href="#${id}">${esc(title)}</a>`).join('')}</nav></header>
${warnings}${headline(r)}
${sections.map(([id, title, body]) => `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`).join('\n')}
</body>
</html>
`;
}
