// The pass manager: runs named pure passes in order, verifies the graph after each, and can
// print the IR after chosen passes and give unified diffs of the textual IR between any two
// points of the pipeline (in the manner of MLIR's --print-ir-after and -print-changed=diff).
import { createTwoFilesPatch } from 'diff';
import { SlimcError } from '../ir/errors.ts';
import { printGraph } from '../ir/text/printer.ts';
import type { Graph } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';

export interface Pass {
  /** Kebab-case name used by --print-after. */
  readonly name: string;
  readonly description: string;
  readonly run: (graph: Graph) => Graph;
}

/** The point before any pass runs. */
export const INPUT_POINT = 'input';

export interface PipelineOptions {
  /** Pass names after which to print the IR, or 'all'. */
  readonly printAfter?: readonly string[] | 'all';
  /** With printAfter: print only where the pass changed the IR. */
  readonly printAfterChange?: boolean;
  /** Print, for each pass selected by printAfter (all passes if none), a unified diff of the IR text. */
  readonly diff?: boolean;
  /** Verify after every pass (default true). */
  readonly verify?: boolean;
  /** Where printed IR and diffs go (default: nowhere). */
  readonly emit?: (text: string) => void;
  /** Called after each pass with its wall time. */
  readonly onPass?: (name: string, milliseconds: number) => void;
}

export interface PipelineTrace {
  readonly graphs: ReadonlyMap<string, Graph>;
  readonly milliseconds: ReadonlyMap<string, number>;
}

export interface PipelineResult {
  readonly graph: Graph;
  readonly trace: PipelineTrace;
}

export function checkPassNames(passes: readonly Pass[], names: readonly string[] | 'all' | undefined): void {
  if (names === undefined || names === 'all') return;
  const known = passes.map((p) => p.name);
  for (const name of names) {
    if (name !== INPUT_POINT && !known.includes(name)) {
      throw new SlimcError(`unknown pass "${name}"; the passes of this pipeline are: ${known.join(', ')} (or "all")`, '--print-after');
    }
  }
}

/** A unified diff of the textual IR of two graphs ('' when they print the same). */
export function diffGraphs(before: Graph, after: Graph, beforeLabel: string, afterLabel: string): string {
  const a = printGraph(before);
  const b = printGraph(after);
  if (a === b) return '';
  return createTwoFilesPatch(beforeLabel, afterLabel, a, b, undefined, undefined, { context: 2 });
}

export function runPipeline(input: Graph, passes: readonly Pass[], opts: PipelineOptions = {}): PipelineResult {
  checkPassNames(passes, opts.printAfter);
  const emit = opts.emit ?? (() => {});
  const selected = (name: string) => opts.printAfter === 'all' || (opts.printAfter ?? []).includes(name);
  const graphs = new Map<string, Graph>([[INPUT_POINT, input]]);
  const milliseconds = new Map<string, number>();
  if (selected(INPUT_POINT)) emit(`// ----- IR at ${INPUT_POINT} -----\n${printGraph(input)}`);
  let graph = input;
  for (const pass of passes) {
    const start = performance.now();
    const next = pass.run(graph);
    if (opts.verify ?? true) verify(next);
    const ms = performance.now() - start;
    milliseconds.set(pass.name, ms);
    opts.onPass?.(pass.name, ms);
    graphs.set(pass.name, next);
    const wantsPrint = selected(pass.name);
    const wantsDiff = opts.diff === true && (opts.printAfter === undefined || wantsPrint);
    if (wantsPrint || wantsDiff) {
      const changed = next !== graph && printGraph(next) !== printGraph(graph);
      if (wantsDiff) {
        emit(changed ? diffGraphs(graph, next, `before ${pass.name}`, `after ${pass.name}`) : `// ----- ${pass.name}: no change -----\n`);
      } else if (changed || !opts.printAfterChange) {
        emit(`// ----- IR after ${pass.name} -----\n${printGraph(next)}`);
      }
    }
    graph = next;
  }
  return { graph, trace: { graphs, milliseconds } };
}

/** The diff between two named points of a finished pipeline ('input' or a pass name). */
export function diffBetween(trace: PipelineTrace, from: string, to: string): string {
  const a = trace.graphs.get(from);
  const b = trace.graphs.get(to);
  if (!a || !b) {
    throw new SlimcError(`no IR recorded at "${a ? to : from}"; the points are: ${[...trace.graphs.keys()].join(', ')}`);
  }
  return diffGraphs(a, b, from, to);
}
