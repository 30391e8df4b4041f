// `slimc opt <model> --passes P1,P2,...`: the IR after the named passes (the names --print-after
// knows), for looking at one pass in isolation and for the IR-file pass tests.
import { Option, type Command } from 'commander';
import { runPasses, PASS_NAMES } from '../../compiler/opt.ts';
import { printGraph } from '../../ir/text/printer.ts';
import { loadModel } from '../load_model.ts';
import { WEIGHTS_HELP } from '../common_options.ts';
import { addSlimmingOptions, optionalSlimOptions, parseRatio, type SlimmingFlags } from '../slimming_options.ts';

interface OptFlags extends SlimmingFlags {
  readonly passes: string;
  readonly prune?: number;
  readonly weights?: string;
}

export function optCommand(cmd: Command): Command {
  cmd
    .requiredOption('--passes <names>', `comma-separated passes, run in this order: ${PASS_NAMES.join(', ')}`)
    .addOption(new Option('--prune <ratio>', 'for mask-channels: the fraction of BN channels to drop').argParser(parseRatio))
    .option('--weights <file>', WEIGHTS_HELP);
  return addSlimmingOptions(cmd).action(async (model: string, flags: OptFlags) => {
    const graph = await loadModel(model, { weights: flags.weights });
    const names = flags.passes
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    const slim = await optionalSlimOptions(graph, flags.prune, flags);
    process.stdout.write(printGraph(runPasses(graph, names, { slim })));
  });
}
