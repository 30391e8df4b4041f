// Detecting exports whose BatchNorms were folded into the convs. torch.onnx.export's defaults
// (eval mode, constant folding) fold every conv -> BN pair into one conv with a bias, which
// leaves Network Slimming no scale factors to rank. Such a model still imports; the user is told
// how to export it with its BNs.
import { nodeName } from './context.ts';
import type { OnnxGraph, OnnxNode } from './proto.ts';

export const KEEP_BN_EXPORT =
  'model.eval(); torch.onnx.export(model, x, "model.onnx", training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)';

const PASS_THROUGH = new Set(['Identity', 'Dropout']);

/** Whether a BatchNormalization reads `value`, directly or through Identity/Dropout. */
function feedsBatchNorm(value: string, consumers: ReadonlyMap<string, readonly OnnxNode[]>): boolean {
  return (consumers.get(value) ?? []).some(
    (n) => n.opType === 'BatchNormalization' || (PASS_THROUGH.has(n.opType ?? '') && feedsBatchNorm(n.output[0], consumers)),
  );
}

/** Ops a squeeze-excite gate passes between its global pool and its convs. */
const GATE_OPS = new Set(['Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Mul', 'Conv', ...PASS_THROUGH]);

/**
 * Whether `value` is computed from a global average pool through convs and activations only: the
 * inside of a squeeze-excite gate, whose 1x1 convs have biases and no BN in the original network.
 */
function fromGlobalPool(value: string, producers: ReadonlyMap<string, OnnxNode>, seen = new Set<string>()): boolean {
  const producer = producers.get(value);
  if (!producer || seen.has(value)) return false;
  seen.add(value);
  if (producer.opType === 'GlobalAveragePool' || producer.opType === 'ReduceMean') return true;
  return GATE_OPS.has(producer.opType ?? '') && producer.input.some((v) => v !== '' && fromGlobalPool(v, producers, seen));
}

/** A warning when the model looks exported with its BNs folded away, else undefined. */
export function foldedBatchNormWarning(graph: OnnxGraph, file: string): string | undefined {
  const convs = graph.node.filter((n) => n.opType === 'Conv');
  if (convs.length === 0) return undefined;
  const batchNorms = graph.node.filter((n) => n.opType === 'BatchNormalization').length;
  const advice =
    `Network Slimming prunes channels by their BatchNorm scale factors; export with the BNs kept:\n    ${KEEP_BN_EXPORT}\n` +
    `The model is imported as it is.`;
  if (batchNorms === 0) {
    return `${file}: the model has ${convs.length} conv${convs.length > 1 ? 's' : ''} and no BatchNormalization: it looks exported with its BNs folded into the convs (eval-mode constant folding), which leaves nothing to prune. ${advice}`;
  }
  const consumers = new Map<string, OnnxNode[]>();
  const producers = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  for (const n of graph.node) {
    for (const input of n.input) {
      const readers = consumers.get(input);
      if (readers) readers.push(n);
      else consumers.set(input, [n]);
    }
  }
  const folded = convs.filter((c) => c.input[2] && !feedsBatchNorm(c.output[0], consumers) && !fromGlobalPool(c.input[0], producers));
  if (folded.length === 0) return undefined;
  const names =
    folded
      .slice(0, 5)
      .map((c) => `'${nodeName(c)}'`)
      .join(', ') + (folded.length > 5 ? `, ... (${folded.length - 5} more)` : '');
  return `${file}: ${folded.length} of ${convs.length} convs have a bias and no BatchNormalization after them (${names}) while the model has ${batchNorms} BatchNormalization node${batchNorms > 1 ? 's' : ''}: their BNs look folded away (eval-mode constant folding), and their channels cannot be pruned. ${advice}`;
}
