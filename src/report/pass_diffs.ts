// What each pass did to the IR, for the report: the unified diff of the textual IR before and
// after every pass of a finished pipeline (the pass manager's trace), with its line counts.
import { diffGraphs, INPUT_POINT, type Pass, type PipelineTrace } from '../passes/pass_manager.ts';

export interface PassDiff {
  readonly name: string;
  readonly description: string;
  /** The unified diff ('' when the pass left the IR as it printed). */
  readonly diff: string;
  readonly added: number;
  readonly removed: number;
}

/** One PassDiff per pass, in pipeline order. */
export function passDiffs(trace: PipelineTrace, passes: readonly Pass[]): PassDiff[] {
  let previous = INPUT_POINT;
  return passes.flatMap((pass) => {
    const before = trace.graphs.get(previous);
    const after = trace.graphs.get(pass.name);
    if (!before || !after) return [];
    previous = pass.name;
    const diff = before === after ? '' : diffGraphs(before, after, `before ${pass.name}`, `after ${pass.name}`);
    const lines = diff.split('\n').slice(2);
    const count = (sign: string) => lines.filter((l) => l.startsWith(sign)).length;
    return [{ name: pass.name, description: pass.description, diff, added: count('+'), removed: count('-') }];
  });
}
