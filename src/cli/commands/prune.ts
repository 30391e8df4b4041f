// `slimc prune <model> --ratio R -o out.slim`: Network Slimming on a model; writes the compact
// IR and its weights file and prints the report.
import { Option, type Command } from 'commander';
import { loadModel } from '../load_model.ts';
import { writeFileAtomically } from '../../util/atomic_write.ts';
import { reportHtml } from '../../report/report_html.ts';
import { pruneReportInput } from '../../report/report_input.ts';
import { writeSlimModel } from '../../ir/model_files.ts';
import { slimGraph } from '../../passes/slim.ts';
import { diffBetween, INPUT_POINT } from '../../passes/pass_manager.ts';
import { printAfterFrom, WEIGHTS_HELP } from '../common_options.ts';
import { jsonOption, sideOutput, writeReport } from '../output.ts';
import { layerCostText, slimReportText } from '../report_text.ts';
import { addSlimmingOptions, parseRatio, slimOptionsFrom, type SlimmingFlags } from '../slimming_options.ts';

interface PruneFlags extends SlimmingFlags {
  readonly ratio?: number;
  readonly weights?: string;
  readonly output?: string;
  readonly printAfter?: string;
  readonly diff?: boolean;
  readonly json?: boolean;
  readonly layers?: boolean;
  readonly report?: string;
}

export function pruneCommand(cmd: Command): Command {
  cmd
    .addOption(new Option('--ratio <r>', 'fraction of BN channels to drop, in [0, 1)').argParser(parseRatio))
    .option('--weights <file>', WEIGHTS_HELP)
    .option('-o, --output <file.slim>', 'write the compact IR here (and <file>.weights.bin beside it)')
    .option('--print-after <pass>', 'print the IR after a pass: mask-channels, prune-channels, input or all')
    .option('--diff', 'print a unified diff of the IR from the input to the compact graph')
    .option('--layers', 'also print params and MACs of every layer before and after')
    .addOption(jsonOption())
    .option('--report <file.html>', 'write report.html: the |gamma| distribution, the channels kept, the network and the IR diff');
  return addSlimmingOptions(cmd).action(async (model: string, flags: PruneFlags) => {
    const graph = await loadModel(model, { weights: flags.weights });
    const options = await slimOptionsFrom(graph, flags.ratio, flags);
    const side = sideOutput(flags.json);
    const result = slimGraph(graph, options, { printAfter: printAfterFrom(flags.printAfter), emit: side });
    for (const w of result.report.warnings) process.stderr.write(`slimc: warning: ${w}\n`);
    if (flags.diff) side(diffBetween(result.trace, INPUT_POINT, 'prune-channels') || '// the compact graph prints the same as the input\n');
    const files = flags.output ? await writeSlimModel(flags.output, result.compact) : null;
    if (flags.report) await writeFileAtomically(flags.report, reportHtml(pruneReportInput(graph, result)), 'the report');
    writeReport(
      flags.json,
      { model, ...result.report, files },
      () =>
        (flags.layers ? `${layerCostText(result.report)}\n` : '') +
        slimReportText(result.report) +
        (files ? `wrote ${files.ir} and ${files.weights}\n` : '') +
        (flags.report ? `wrote ${flags.report}\n` : ''),
    );
  });
}
