// `slimc export <model> -o out.onnx`: writes a model as NCHW ONNX for any ONNX runtime, pruned by
// Network Slimming first when --prune (or --masks) is given.
import { Command, Option } from 'commander';
import { cost } from '../../ir/cost.ts';
import { refuseExistingFile, writeFileAtomically } from '../../util/atomic_write.ts';
import { EXPORT_OPSET, exportOnnx } from '../../frontends/onnx/index.ts';
import { slimGraph } from '../../passes/slim.ts';
import { loadModel } from '../load_model.ts';
import { addSlimmingOptions, parseRatio, slimOptionsFrom, type SlimmingFlags } from '../slimming_options.ts';

interface ExportFlags extends SlimmingFlags {
  readonly output: string;
  readonly weights?: string;
  readonly prune?: number;
  readonly force?: boolean;
}

export function exportCommand(): Command {
  const cmd = new Command('export')
    .description(`write a model as NCHW ONNX (opset ${EXPORT_OPSET}) for any ONNX runtime, optionally pruned first`)
    .argument('<model>', 'a model: .ts/.js module (DSL), .slim textual IR or .onnx')
    .requiredOption('-o, --output <file.onnx>', 'where to write the ONNX model')
    .option('--weights <file>', 'weights file for the model')
    .option('--force', 'replace the output file if it exists')
    .addOption(
      new Option('--prune <ratio>', 'prune by Network Slimming first: the fraction of BN channels to drop, in [0, 1)').argParser(
        parseRatio,
      ),
    );
  return addSlimmingOptions(cmd)
    .showHelpAfterError()
    .exitOverride()
    .action(async (model: string, flags: ExportFlags) => {
      // Before any long work: never overwrite a file unasked.
      await refuseExistingFile(flags.output, flags.force === true);
      let graph = await loadModel(model, { weights: flags.weights });
      if (flags.prune !== undefined || flags.masks !== undefined) {
        const result = slimGraph(graph, await slimOptionsFrom(graph, flags.prune, flags));
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
