// `slimc compile <model> --out DIR [--prune R]`: prune (optionally), lower and emit an ES module
// for tfjs-backend-wasm, write it with its weights, final IR and report, then run it against
// the interpreter on the reference graph; a difference beyond tolerance fails the command.
import { Option, type Command } from 'commander';
import { compileGraph, OUTPUT_FILES, writeCompiled, type CompileReport } from '../../compiler/compile.ts';
import { importMapSnippet, npmInstallLine } from '../../codegen/app_setup.ts';
import { checkOutputDir } from '../../codegen/output_dir.ts';
import { SlimcError } from '../../ir/errors.ts';
import { COST_CONVENTION } from '../../ir/cost.ts';
import { loadModel } from '../load_model.ts';
import { beforeAfterTable, slimReportText } from '../report_text.ts';
import { printAfterFrom, WEIGHTS_HELP } from '../common_options.ts';
import { jsonOption, sideOutput, writeReport } from '../output.ts';
import { addSlimmingOptions, optionalSlimOptions, parseRatio, type SlimmingFlags } from '../slimming_options.ts';
import { formatCount } from '../table.ts';

interface CompileFlags extends SlimmingFlags {
  readonly prune?: number;
  readonly weights?: string;
  readonly out: string;
  readonly printAfter?: string;
  readonly diff?: boolean;
  readonly json?: boolean;
  readonly force?: boolean;
  readonly bench?: boolean;
}

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ratio = (after: number, before: number) => (before === 0 ? '-' : `${(after / before).toFixed(3)}x`);

function summaryText(report: CompileReport, dir: string, withTotals: boolean): string {
  const rows = (['params', 'macs', 'flops'] as const).map((k) => [
    k === 'macs' ? 'MACs' : k === 'flops' ? 'FLOPs' : 'params',
    formatCount(report.before[k]),
    formatCount(report.after[k]),
    ratio(report.after[k], report.before[k]),
  ]);
  const table = beforeAfterTable(rows);
  const files = report.files.map((f) => `${f.name} ${kilobytes(f.bytes)}`).join(', ');
  const check = report.check
    ? `check: max |module - interpreter| = ${report.check.maxAbsDiff.toExponential(2)} (tolerance ${report.check.tolerance.toExponential(2)}, ` +
      `batch ${report.check.batch}, seed ${report.check.seed}): ${report.check.ok ? 'ok' : 'FAILED'}`
    : 'check: skipped';
  const totals = withTotals ? `${table}\n(${COST_CONVENTION})\n` : '';
  const l = report.latency;
  const latency = l
    ? `latency: ${l.moduleMs.toFixed(3)} ms${l.unprunedMs === null ? '' : ` vs ${l.unprunedMs.toFixed(3)} ms unpruned (${(l.speedup ?? 0).toFixed(2)}x)`}, ` +
      `median predict of ${l.runs} runs after ${l.warmup} warm-up, batch 1, ${l.backend.variant} with ${l.backend.threads} thread(s)\n`
    : '';
  return `${totals}wrote ${dir}: ${files}\ncompile ${report.milliseconds.compile.toFixed(0)} ms\n${check}\n${latency}`;
}

/** What an app needs: the packages to install, and for a page without a bundler the import map. */
const appSetupText = (dir: string) =>
  `\nto run ${dir}/model.js, an app needs:\n  ${npmInstallLine()}\nin a web page without a bundler, put this import map before the script that imports it:\n${importMapSnippet()}\n`;

export function compileCommand(cmd: Command): Command {
  cmd
    .requiredOption('--out <dir>', 'output directory: model.js, model.d.ts, model.weights.bin, model.slim, report.json, report.html')
    .addOption(
      new Option('--prune <ratio>', 'prune this fraction of BN channels (Network Slimming) before compiling').argParser(parseRatio),
    )
    .option('--weights <file>', WEIGHTS_HELP)
    .option('--print-after <pass>', 'print the IR after passes (comma-separated names, "input" or "all")')
    .option('--diff', 'print a unified diff of the IR for each pass selected by --print-after (every pass if none)')
    .addOption(jsonOption())
    .option('--bench', 'time the module against the unpruned module (median of 200 runs after 20 warm-up runs, batch 1) and report both')
    .option('--force', 'replace an existing output directory that is not a previous slimc output');
  return addSlimmingOptions(cmd).action(async (model: string, flags: CompileFlags) => {
    const progress = (line: string) => process.stderr.write(`slimc: ${line}\n`);
    // Refuse a bad output directory before any long work.
    const inputs = [model, ...(flags.weights === undefined ? [] : [flags.weights])];
    await checkOutputDir(flags.out, { force: flags.force, inputs, files: OUTPUT_FILES, notice: progress });
    progress(`loading ${model}`);
    const graph = await loadModel(model, { weights: flags.weights });
    const slim = await optionalSlimOptions(graph, flags.prune, flags);
    const printAfter = printAfterFrom(flags.printAfter);
    const compiled = compileGraph(graph, { slim, printAfter, diff: flags.diff, emit: sideOutput(flags.json), progress });
    progress(`writing ${flags.out}`);
    const { written, ...report } = await writeCompiled(compiled, graph, flags.out, {
      force: flags.force,
      inputs,
      progress,
      bench: flags.bench === true,
    });
    writeReport(
      flags.json,
      { source: model, dir: flags.out, written, ...report },
      () =>
        (compiled.slim ? slimReportText(compiled.slim.report) : '') +
        summaryText(report, flags.out, compiled.slim === null) +
        appSetupText(flags.out),
    );
    if (report.check && !report.check.ok) {
      throw new SlimcError(
        `the compiled module differs from the interpreter by ${report.check.maxAbsDiff.toExponential(3)}, beyond the tolerance ${report.check.tolerance.toExponential(3)} ` +
          (written ? '(the files are written for inspection)' : '(the earlier output is left unchanged)'),
        flags.out,
      );
    }
  });
}
