// `slimc inspect <model>`: the model's textual IR, then a per-layer table of output shapes,
// parameters and MACs with totals, or the same figures as one JSON object.
import type { Command } from 'commander';
import { COST_CONVENTION, cost, type Cost } from '../../ir/cost.ts';
import { graphInputs } from '../../ir/node.ts';
import { printGraph } from '../../ir/text/printer.ts';
import { formatValue } from '../../ir/text/syntax.ts';
import type { Graph } from '../../ir/types.ts';
import { loadModel } from '../load_model.ts';
import { jsonOption, writeReport } from '../output.ts';
import { formatCount, formatScientific, formatTable } from '../table.ts';

interface InspectOptions {
  readonly weights?: string;
  readonly json?: boolean;
  readonly ir: boolean;
}

export interface InspectReport {
  readonly name: string;
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly outputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly params: number;
  readonly macs: number;
  readonly flops: number;
  readonly convention: string;
  readonly layers: readonly {
    readonly value: string;
    readonly op: string;
    readonly shape: readonly number[];
    readonly params: number;
    readonly macs: number;
  }[];
}

export function inspectCommand(cmd: Command): Command {
  return cmd
    .option('--weights <file>', 'weights file (default for .slim: <model>.weights.bin beside it)')
    .addOption(jsonOption())
    .option('--no-ir', 'do not print the IR text')
    .action(async (model: string, opts: InspectOptions) => {
      const graph = await loadModel(model, { weights: opts.weights });
      writeReport(opts.json, inspectReport(graph), () => inspectText(graph, opts.ir));
    });
}

export function inspectReport(graph: Graph, figures: Cost = cost(graph)): InspectReport {
  const types = new Map(graph.nodes.map((n) => [n.id, n.type.shape]));
  return {
    name: graph.name,
    inputs: graphInputs(graph).map((n) => ({ name: n.id, shape: n.type.shape })),
    outputs: graph.outputs.map((v) => ({ name: v, shape: types.get(v) ?? [] })),
    params: figures.params,
    macs: figures.macs,
    flops: figures.flops,
    convention: COST_CONVENTION,
    layers: figures.nodes.map((n) => ({ value: n.id, op: n.op, shape: n.shape, params: n.params, macs: n.macs })),
  };
}

export function inspectText(graph: Graph, withIr = true): string {
  const report = inspectReport(graph);
  const table = formatTable(
    [
      { header: 'value', align: 'left' },
      { header: 'op', align: 'left' },
      { header: 'output shape', align: 'left' },
      { header: 'params', align: 'right' },
      { header: 'MACs', align: 'right' },
    ],
    report.layers.map((l) => [formatValue(l.value), l.op, `[${l.shape.join(',')}]`, formatCount(l.params), formatCount(l.macs)]),
    [['total', '', '', formatCount(report.params), formatCount(report.macs)]],
  );
  const summary =
    `${graph.name}: ${formatCount(report.params)} params, ${formatCount(report.macs)} MACs, ` +
    `${formatScientific(report.flops)} FLOPs\n(${COST_CONVENTION})\n`;
  return `${withIr ? `${printGraph(graph)}\n` : ''}${table}\n${summary}`;
}
