// `slimc prune <model> --ratio R -o out.slim`: Network Slimming on a model; writes the compact
// IR and its weights file and prints the report.
import { Command, Option } from 'commander';
import { loadModel } from '../load_model.ts';
import { writeFileAtomically } from '../../util/atomic_write.ts';
import { reportHtml } from '../../report/report_html.ts';
import { pruneReportInput } from '../../report/report_input.ts';
import { writeSlimModel } from '../../ir/model_files.ts';
import { slimGraph } from '../../passes/slim.ts';
import { diffBetween, INPUT_POINT } from '../../passes/pass_manager.ts';
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

export function pruneCommand(): Command {
  const cmd = new Command('prune')
    .description('prune a model by Network Slimming and write the compact IR (.slim + .weights.bin)')
    .argument('<model>', 'a model: .ts/.js module (DSL), .slim textual IR or .onnx')
    .addOption(new Option('--ratio <r>', 'fraction of BN channels to drop, in [0, 1)').argParser(parseRatio))
    .option('--weights <file>', 'weights file for the model')
    .option('-o, --output <file.slim>', 'write the compact IR here (and <file>.weights.bin beside it)')
    .option('--print-after <pass>', 'print the IR after a pass: mask-channels, prune-channels, input or all')
    .option('--diff', 'print a unified diff of the IR from the input to the compact graph')
    .option('--layers', 'also print params and MACs of every layer before and after')
    .option('--json', 'print the report as one JSON object')
    .option('--report <file.html>', 'write report.html: the |gamma| distribution, the channels kept, the network and the IR diff');
  return addSlimmingOptions(cmd)
    .showHelpAfterError()
    .exitOverride()
    .action(async (model: string, flags: PruneFlags) => {
      const graph = await loadModel(model, { weights: flags.weights });
      const options = await slimOptionsFrom(graph, flags.ratio, flags);
      const side = (text: string) => (flags.json ? process.stderr : process.stdout).write(text.endsWith('\n') ? text : `${text}\n`);
      const printAfter =
        flags.printAfter === undefined ? undefined : flags.printAfter === 'all' ? ('all' as const) : flags.printAfter.split(',');
      const result = slimGraph(graph, options, { printAfter, emit: side });
      for (const w of result.report.warnings) process.stderr.write(`slimc: warning: ${w}\n`);
      if (flags.diff)
        side(diffBetween(result.trace, INPUT_POINT, 'prune-channels') || '// the compact graph prints the same as the input\n');
      const files = flags.output ? await writeSlimModel(flags.output, result.compact) : null;
      if (flags.report) await writeFileAtomically(flags.report, reportHtml(pruneReportInput(graph, result)), 'the report');
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ model, ...result.report, files })}\n`);
      } else {
        if (flags.layers) process.stdout.write(`${layerCostText(result.report)}\n`);
        process.stdout.write(slimReportText(result.report));
        if (files) process.stdout.write(`wrote ${files.ir} and ${files.weights}\n`);
        if (flags.report) process.stdout.write(`wrote ${flags.report}\n`);
      }
    });
}
