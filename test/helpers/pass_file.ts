// IR-file pass tests (in the manner of LLVM's FileCheck tests): one .slim file holds the input
// graph, the pipeline to run on it and the expected IR after it.
//
//   // RUN: fold-batch-norm,fuse-activations
//   // PRUNE: 0.5                       (only for mask-channels: the ratio that selects channels)
//   graph g(%x: f32[1,4,4,3]) -> (%y) {
//     @c.w : f32[1,1,3,4]              (weights without a digest: filled from their names)
//     ...
//   }
//   // CHECK: graph g(%x: f32[1,4,4,3]) -> (%y) {
//   // CHECK:   @c.w : f32[1,1,3,4] #0123abcd
//   ...
//
// The input is the file itself: `//` lines are comments to the IR parser. Weight data is made
// from each weight's name, so the digests in the expected IR are stable. The expected IR is the
// whole printed graph, compared line for line.
import { readFile } from 'node:fs/promises';
import { runPasses } from '../../src/compiler/opt.ts';
import { parseGraph } from '../../src/ir/text/parser.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import type { Graph, Weight, Weights } from '../../src/ir/types.ts';
import { Rng } from '../../src/util/random.ts';

export interface PassFile {
  readonly passes: readonly string[];
  readonly prune: number | null;
  /** The file without its CHECK lines. */
  readonly input: string;
  /** The expected IR, or null when the file has no CHECK lines yet. */
  readonly expected: string | null;
}

const RUN = /^\/\/ RUN: (.*)$/m;
const PRUNE = /^\/\/ PRUNE: (.*)$/m;
const CHECK = /^\/\/ CHECK:( (.*))?$/;

export function parsePassFile(text: string, file: string): PassFile {
  const run = RUN.exec(text);
  if (!run) throw new Error(`${file}: no "// RUN: pass,pass,..." line`);
  const prune = PRUNE.exec(text);
  const lines = text.split('\n');
  const checks = lines.filter((l) => CHECK.test(l)).map((l) => (CHECK.exec(l) as RegExpExecArray)[2] ?? '');
  return {
    passes: run[1].split(',').map((p) => p.trim()),
    prune: prune ? Number(prune[1]) : null,
    input:
      lines
        .filter((l) => !CHECK.test(l))
        .join('\n')
        .trimEnd() + '\n',
    expected: checks.length > 0 ? `${checks.join('\n')}\n` : null,
  };
}

/** A weight's data from its name: BN variances in [0.5, 1.5), everything else in [-1, 1). */
function weightFor(name: string, shape: readonly number[]): Weight {
  let seed = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) seed = Math.imul(seed ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const variance = name.endsWith('.var');
  return { shape, data: rng.fill(size, () => (variance ? 0.5 + rng.uniform() : 2 * rng.uniform() - 1)) };
}

const DECLARATION = /^\s*@([A-Za-z0-9_.]+)\s*:\s*f32\[([0-9,]*)\]\s*$/;

/** The input graph of a pass file, its weights made from their names. */
export function inputGraph(test: PassFile, file: string): Graph {
  const weights: Record<string, Weight> = {};
  for (const line of test.input.split('\n')) {
    const m = DECLARATION.exec(line);
    if (m) weights[m[1]] = weightFor(m[1], m[2] === '' ? [] : m[2].split(',').map(Number));
  }
  return parseGraph(test.input, weights as Weights, file);
}

/** The printed IR after the file's pipeline. */
export function runPassFile(test: PassFile, file: string): string {
  const graph = inputGraph(test, file);
  return printGraph(runPasses(graph, test.passes, test.prune === null ? {} : { slim: { ratio: test.prune } }));
}

/** The file with its CHECK lines replaced by `actual`. */
export function withChecks(test: PassFile, actual: string): string {
  const checks = actual
    .trimEnd()
    .split('\n')
    .map((l) => (l === '' ? '// CHECK:' : `// CHECK: ${l}`));
  return `${test.input}${checks.join('\n')}\n`;
}

export async function readPassFile(path: string): Promise<PassFile> {
  return parsePassFile(await readFile(path, 'utf8'), path);
}
