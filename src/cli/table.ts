// Plain-text tables for the CLI: columns padded to their widest cell, numbers right-aligned.

export interface Column {
  readonly header: string;
  readonly align: 'left' | 'right';
}

/** Rows under a header and a rule; `footer` rows (totals) come after a second rule. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  footer: readonly (readonly string[])[] = [],
): string {
  const all = [columns.map((c) => c.header), ...rows, ...footer];
  const widths = columns.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => (c.align === 'right' ? (cells[i] ?? '').padStart(widths[i]) : (cells[i] ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = [line(all[0]), rule, ...rows.map(line)];
  if (footer.length > 0) body.push(rule, ...footer.map(line));
  return `${body.join('\n')}\n`;
}

/** 20035018 -> "20,035,018". */
export const formatCount = (n: number) => n.toLocaleString('en-US');

/** 796272640 -> "7.96e8". */
export const formatScientific = (n: number) => n.toExponential(2).replace('e+', 'e');
