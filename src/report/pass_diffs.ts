// What each pass did to the IR, for the report: the unified diff of the textual IR before and
// after every pass of a finished pipeline (the pass manager's trace), with its line counts.
//
// A pass that rewrites most lines (pruning a ResNet-164) makes a minimal diff slow (seconds), so
// past a time limit the report falls back to a diff keyed by what each line defines (`%value`,
// `@weight`): linear time, and for an SSA IR just as readable.
import { createTwoFilesPatch } from 'diff';
import { printGraph } from '../ir/text/printer.ts';
import { INPUT_POINT, type Pass, type PipelineTrace } from '../passes/pass_manager.ts';

export interface PassDiff {
  readonly name: string;
  readonly description: string;
  /** The diff's hunks, from the first `@@` line ('' when the pass left the IR as it printed). */
  readonly diff: string;
  readonly added: number;
  readonly removed: number;
}

/** Milliseconds a minimal diff may take before the keyed one is used instead. */
const MINIMAL_DIFF_TIMEOUT_MS = 100;

/** What a line of textual IR defines: `%value`, `@weight`, or nothing (header, braces). */
const keyOf = (line: string): string | null => /^\s*([%@][^\s=:]+)/.exec(line)?.[1] ?? null;

/** -/+ per changed, removed or added definition, in the order of the text before, then new ones. */
export function keyedDiff(before: string, after: string, beforeLabel: string, afterLabel: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const afterByKey = new Map(b.flatMap((line) => (keyOf(line) === null ? [] : [[keyOf(line) as string, line] as const])));
  const beforeKeys = new Set(a.map(keyOf));
  const out = [`--- ${beforeLabel}`, `+++ ${afterLabel}`, '@@ changed definitions (keyed by the value or weight each line defines) @@'];
  for (const line of a) {
    const key = keyOf(line);
    if (key === null) continue;
    const now = afterByKey.get(key);
    if (now === line) continue;
    out.push(`-${line}`);
    if (now !== undefined) out.push(`+${now}`);
  }
  for (const line of b) {
    const key = keyOf(line);
    if (key !== null && !beforeKeys.has(key)) out.push(`+${line}`);
  }
  return `${out.join('\n')}\n`;
}

function irDiff(before: string, after: string, beforeLabel: string, afterLabel: string): string {
  if (before === after) return '';
  const minimal = createTwoFilesPatch(beforeLabel, afterLabel, before, after, undefined, undefined, {
    context: 2,
    timeout: MINIMAL_DIFF_TIMEOUT_MS,
  });
  return minimal ?? keyedDiff(before, after, beforeLabel, afterLabel);
}

/** One PassDiff per pass, in pipeline order. */
export function passDiffs(trace: PipelineTrace, passes: readonly Pass[]): PassDiff[] {
  let previous = INPUT_POINT;
  let previousText: string | null = null;
  return passes.flatMap((pass) => {
    const before = trace.graphs.get(previous);
    const after = trace.graphs.get(pass.name);
    if (!before || !after) return [];
    previous = pass.name;
    const beforeText = previousText ?? printGraph(before);
    const afterText = after === before ? beforeText : printGraph(after);
    previousText = afterText;
    // The file header lines (===, ---, +++) say nothing the report does not.
    const full = irDiff(beforeText, afterText, `before ${pass.name}`, `after ${pass.name}`);
    const diff = full === '' ? '' : full.slice(full.indexOf('@@'));
    const lines = diff.split('\n');
    const count = (sign: string) => lines.filter((l) => l.startsWith(sign)).length;
    return [{ name: pass.name, description: pass.description, diff, added: count('+'), removed: count('-') }];
  });
}
