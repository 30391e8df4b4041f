// Text presentation of a slimming report (shared by prune and compile) and of before/after totals.
import type { SlimReport } from '../passes/report.ts';
import { formatCount, formatScientific, formatTable } from './table.ts';

const percent = (after: number, before: number) => (before === 0 ? '-' : `${((100 * after) / before).toFixed(1)}%`);

/** Params and MACs of every conv and dense layer (and BN params) before and after. */
export function layerCostText(report: SlimReport): string {
  return formatTable(
    [
      { header: 'layer', align: 'left' },
      { header: 'op', align: 'left' },
      { header: 'params before', align: 'right' },
      { header: 'params after', align: 'right' },
      { header: 'MACs before', align: 'right' },
      { header: 'MACs after', align: 'right' },
      { header: 'MACs kept', align: 'right' },
    ],
    report.layers.map((l) => [
      l.id,
      l.op,
      formatCount(l.before.params),
      formatCount(l.after.params),
      formatCount(l.before.macs),
      formatCount(l.after.macs),
      percent(l.after.macs, l.before.macs),
    ]),
  );
}

/** Whole-model figures before and after: rows of label, before, after and their ratio. */
export const beforeAfterTable = (rows: readonly (readonly string[])[]): string =>
  formatTable(
    [
      { header: '', align: 'left' },
      { header: 'before', align: 'right' },
      { header: 'after', align: 'right' },
      { header: 'after/before', align: 'right' },
    ],
    rows,
  );

export function slimReportText(report: SlimReport): string {
  const channels = formatTable(
    [
      { header: 'BN layer', align: 'left' },
      { header: 'channels', align: 'right' },
      { header: 'selected', align: 'right' },
      { header: 'compact', align: 'right' },
      { header: 'note', align: 'left' },
    ],
    report.channels.map((c) => [
      c.name,
      String(c.before),
      String(c.selected),
      String(c.after),
      c.heldBy ? `held by ${c.heldBy}` : c.after === 0 ? 'dead: branch removed' : c.after > c.selected ? 'coupled: kept for an add' : '',
    ]),
    [
      [
        'total',
        String(report.channels.reduce((s, c) => s + c.before, 0)),
        String(report.channels.reduce((s, c) => s + c.selected, 0)),
        String(report.channels.reduce((s, c) => s + c.after, 0)),
        '',
      ],
    ],
  );
  const totals = beforeAfterTable([
    ['params', formatCount(report.before.params), formatCount(report.after.params), percent(report.after.params, report.before.params)],
    ['MACs', formatCount(report.before.macs), formatCount(report.after.macs), percent(report.after.macs, report.before.macs)],
    [
      'FLOPs',
      formatScientific(report.before.flops),
      formatScientific(report.after.flops),
      percent(report.after.flops, report.before.flops),
    ],
  ]);
  const how =
    report.ratio === null
      ? 'channels chosen by the masks file'
      : `ratio ${report.ratio}${report.threshold === null ? ' (per-layer thresholds)' : `, global |gamma| threshold ${report.threshold.toPrecision(4)} (keep |gamma| > threshold)`}`;
  return `${how}\n\n${channels}\n${totals}\n(${report.convention})\n`;
}
