// `slimc opt <model> --passes P1,P2,...`: the IR after the named passes (the names --print-after
// knows), for looking at one pass in isolation and for the IR-file pass tests.
import { Command, Option } from 'commander';
import { runPasses, PASS_NAMES } from '../../compiler/opt.ts';
import { printGraph } from '../../ir/text/printer.ts';
import { loadModel } from '../load_model.ts';
import { addSlimmingOptions, parseRatio, slimOptionsFrom, type SlimmingFlags } from '../slimming_options.ts';

interface OptFlags extends SlimmingFlags {
  readonly passes: string;
  readonly prune?: number;
  readonly weights?: string;
}

export function optCommand(): Command {
  const cmd = new Command('opt')
    .description('print the IR of a model after the named passes')
    .argument('<model>', 'a model: .ts/.js module (DSL), .slim textual IR or .onnx')
    .requiredOption('--passes <names>', `comma-separated passes, run in this order: ${PASS_NAMES.join(', ')}`)
    .addOption(new Option('--prune <ratio>', 'for mask-channels: the fraction of BN channels to drop').argParser(parseRatio))
    .option('--weights <file>', 'weights file for the model');
  return addSlimmingOptions(cmd)
    .showHelpAfterError()
    .exitOverride()
    .action(async (model: string, flags: OptFlags) => {
      const graph = await loadModel(model, { weights: flags.weights });
      const names = flags.passes
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== '');
      const prunes = flags.prune !== undefined || flags.masks !== undefined;
      const slim = prunes ? await slimOptionsFrom(graph, flags.prune, flags) : undefined;
      process.stdout.write(printGraph(runPasses(graph, names, { slim })));
    });
}
