// `slimc export <model> -o out.onnx`: writes a model as NCHW ONNX for any ONNX runtime, pruned by
// Network Slimming first when --prune (or --masks) is given.
import { Option, type Command } from 'commander';
import { cost } from '../../ir/cost.ts';
import { refuseExistingFile, writeFileAtomically } from '../../util/atomic_write.ts';
import { EXPORT_OPSET, exportOnnx } from '../../frontends/onnx/index.ts';
import { slimGraph } from '../../passes/slim.ts';
import { loadModel } from '../load_model.ts';
import { WEIGHTS_HELP } from '../common_options.ts';
import { addSlimmingOptions, optionalSlimOptions, parseRatio, type SlimmingFlags } from '../slimming_options.ts';

interface ExportFlags extends SlimmingFlags {
  readonly output: string;
  readonly weights?: string;
  readonly prune?: number;
  readonly force?: boolean;
}

export function exportCommand(cmd: Command): Command {
  cmd
    .requiredOption('-o, --output <file.onnx>', 'where to write the ONNX model')
    .option('--weights <file>', WEIGHTS_HELP)
    .option('--force', 'replace the output file if it exists')
    .addOption(
      new Option('--prune <ratio>', 'prune by Network Slimming first: the fraction of BN channels to drop, in [0, 1)').argParser(
        parseRatio,
      ),
    );
  return addSlimmingOptions(cmd).action(async (model: string, flags: ExportFlags) => {
    // Before any long work: never overwrite a file unasked.
    await refuseExistingFile(flags.output, flags.force === true);
    let graph = await loadModel(model, { weights: flags.weights });
    const slim = await optionalSlimOptions(graph, flags.prune, flags);
    if (slim) {
      const result = slimGraph(graph, slim);
      const before = cost(graph).params;
      const after = cost(result.compact).params;
      process.stdout.write(`pruned: ${before} -> ${after} params (${((100 * (before - after)) / before).toFixed(1)}% fewer)\n`);
      graph = result.compact;
    }
    const bytes = exportOnnx(graph);
    await writeFileAtomically(flags.output, bytes, 'the ONNX model');
    const inputs = graph.nodes.filter((n) => n.op === 'input').length;
    process.stdout.write(
      `wrote ${flags.output}: ONNX opset ${EXPORT_OPSET}, NCHW, ${inputs} input${inputs > 1 ? 's' : ''}, ${graph.outputs.length} output${graph.outputs.length > 1 ? 's' : ''}, ${cost(graph).params} params, ${bytes.length} bytes\n`,
    );
  });
}
