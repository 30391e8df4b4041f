// The ONNX importer: a .onnx model (NCHW, as PyTorch exports CNNs) as a verified slimc graph
// (NHWC inside), with the source layout recorded at the border (`layout: { input: 'NCHW' }`).
//
// Names are kept: an IR value is named after its ONNX node (`/features/features.0/Conv`), the node
// producing a graph output after that output (`logits`), a weight after its initializer
// (`features.0.weight`), and a BatchNorm's parameters after its scale's module path
// (`features.1`, with weights `features.1.gamma`, `.beta`, `.mean`, `.var`).
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { SlimcError, UnsupportedError } from '../../ir/errors.ts';
import { liveValues, weightsOf, withInputs } from '../../ir/node.ts';
import type { Graph, Node, ValueId, Weight } from '../../ir/types.ts';
import { f32 } from '../../ir/types.ts';
import { verify } from '../../ir/verify.ts';
import { Attributes } from './attributes.ts';
import { ImportContext, nodeName } from './context.ts';
import { foldedBatchNormWarning } from './folded_bn.ts';
import { CONVERTERS, SUPPORTED_OPS, isDefaultDomain } from './ops.ts';
import { DataType, decodeModel, type OnnxGraph, type OnnxModel, type OnnxValueInfo } from './proto.ts';
import { dataTypeName, decodeTensor } from './tensor.ts';

export interface OnnxImportOptions {
  /** Names the model in errors and warnings (a path). Default `<onnx>`. */
  readonly file?: string;
  /** The graph's name. Default: the file's base name without extension, else the ONNX graph's name. */
  readonly name?: string;
}

export interface OnnxImport {
  readonly graph: Graph;
  /** Things the user should know, such as BNs folded away at export; the import succeeded. */
  readonly warnings: readonly string[];
  /** The model's ai.onnx opset. */
  readonly opset: number;
  /** Who wrote the model (`pytorch 1.13.0`). */
  readonly producer: string;
}

/** The opsets the importer is written and tested for. */
export const OPSET_RANGE = { min: 11, max: 18 } as const;

/** Imports an ONNX model from its bytes. */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxImport {
  const file = options.file ?? '<onnx>';
  const model = decodeModel(bytes, file);
  const graph = model.graph;
  if (!graph || graph.node.length === 0 || graph.output.length === 0) {
    throw new SlimcError(`not an ONNX model with a graph (an empty, truncated or non-ONNX file?)`, file);
  }
  const opset = defaultOpset(model, file);
  rejectUnsupported(graph, file);

  const outputNames = graph.output.map((o) => o.name ?? '');
  const ctx = new ImportContext(file, opset, graph.node, new Set(outputNames));
  for (const init of graph.initializer) {
    const name = init.name ?? '';
    ctx.define(name, { kind: 'const', name, tensor: decodeTensor(init, `${file}: initializer '${name}'`) });
  }
  for (const input of graph.input) {
    const name = input.name ?? '';
    if (!ctx.has(name)) ctx.define(name, ctx.addInput(name, inputType(input, file)));
  }
  for (const node of graph.node) {
    CONVERTERS[node.opType ?? ''](ctx, node, new Attributes(node, ctx.where(node)));
    const missing = node.output.find((o, k) => o && !ctx.has(o) && !ctx.outputUnused(node, k));
    if (missing) ctx.fail(node, `internal: output '${missing}' was not defined`);
  }
  const outputs = outputNames.map((name) => {
    const sym = ctx.lookup(name);
    if (!sym) throw new SlimcError(`graph output '${name}' is produced by no node (a truncated or corrupt file?)`, file);
    if (sym.kind !== 'value') throw new SlimcError(`graph output '${name}' is not a tensor computed from the input`, file);
    return ctx.inOnnxOrder(sym).id;
  });

  const built: Graph = {
    name: options.name ?? graphName(file, graph),
    nodes: ctx.nodes,
    outputs,
    weights: ctx.weights,
    layout: { input: 'NCHW' },
  };
  const warnings: string[] = [];
  if (opset < OPSET_RANGE.min || opset > OPSET_RANGE.max) {
    warnings.push(`${file}: opset ${opset} is outside the opsets slimc is tested with (${OPSET_RANGE.min} to ${OPSET_RANGE.max})`);
  }
  const folded = foldedBatchNormWarning(graph, file);
  if (folded) warnings.push(folded);
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ');
  return { graph: verify(pruneUnused(nameOutputs(built, outputNames))), warnings, opset, producer };
}

/** Imports the ONNX model in `path`. */
export function importOnnxFile(path: string, options: Omit<OnnxImportOptions, 'file'> = {}): OnnxImport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SlimcError(`cannot read the file: ${e instanceof Error ? e.message : String(e)}`, path);
  }
  return importOnnx(bytes, { ...options, file: path });
}

function defaultOpset(model: OnnxModel, file: string): number {
  const entry = model.opsetImport.find((o) => isDefaultDomain(o.domain));
  if (entry?.version === undefined) throw new SlimcError(`the model imports no ai.onnx opset (a truncated or corrupt file?)`, file);
  return entry.version;
}

/** One error naming every op the model uses that slimc does not import, with the nodes using it. */
function rejectUnsupported(graph: OnnxGraph, file: string): void {
  const byOp = new Map<string, string[]>();
  for (const node of graph.node) {
    const op = isDefaultDomain(node.domain) ? (node.opType ?? '') : `${node.domain}.${node.opType}`;
    if (isDefaultDomain(node.domain) && Object.hasOwn(CONVERTERS, op)) continue;
    byOp.set(op, [...(byOp.get(op) ?? []), nodeName(node)]);
  }
  if (byOp.size === 0) return;
  const count = [...byOp.values()].reduce((s, names) => s + names.length, 0);
  const lines = [...byOp.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([op, names]) =>
        `  ${op} (${names.length}): ${names
          .slice(0, 8)
          .map((n) => `'${n}'`)
          .join(', ')}${names.length > 8 ? ', ...' : ''}`,
    );
  throw new UnsupportedError(
    `the model uses ${byOp.size} op type${byOp.size > 1 ? 's' : ''} slimc does not import, in ${count} node${count > 1 ? 's' : ''}:\n${lines.join('\n')}\n` +
      `slimc imports: ${SUPPORTED_OPS.join(', ')}`,
    file,
  );
}

/** The IR type of a graph input: NCHW [N, C, H, W] becomes NHWC; a symbolic batch becomes 1. */
function inputType(input: OnnxValueInfo, file: string) {
  const name = input.name ?? '';
  const tensor = input.type?.tensorType;
  if (tensor?.elemType !== DataType.FLOAT) {
    throw new SlimcError(`graph input '${name}' has element type ${dataTypeName(tensor?.elemType)}; slimc takes float inputs`, file);
  }
  const dims = (tensor.shape?.dim ?? []).map((d, i) => (d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : i === 0 ? 1 : NaN));
  if (dims.length !== 4 && dims.length !== 2) {
    throw new SlimcError(`graph input '${name}' has rank ${dims.length}; slimc takes NCHW images or [N, features]`, file);
  }
  if (dims.some((d) => Number.isNaN(d))) {
    throw new SlimcError(`graph input '${name}' has a symbolic dimension other than the batch; export with a fixed input size`, file);
  }
  return f32(dims.length === 4 ? [dims[0], dims[2], dims[3], dims[1]] : dims);
}

function graphName(file: string, graph: OnnxGraph): string {
  const base = basename(file, extname(file));
  return base && !base.startsWith('<') ? base : graph.name || 'onnx';
}

/** The nodes producing the graph's outputs take the ONNX outputs' names, where those are free. */
function nameOutputs(graph: Graph, names: readonly string[]): Graph {
  const taken = new Set(graph.nodes.map((n) => n.id));
  const rename = new Map<ValueId, ValueId>();
  graph.outputs.forEach((id, k) => {
    const node = graph.nodes.find((n) => n.id === id);
    const name = names[k];
    if (!node || node.op === 'input' || id === name || taken.has(name) || rename.has(id) || !name) return;
    rename.set(id, name);
    taken.add(name);
  });
  if (rename.size === 0) return graph;
  const to = (v: ValueId) => rename.get(v) ?? v;
  const nodes = graph.nodes.map((n): Node => ({ ...withInputs(n, to), id: to(n.id) }) as Node);
  return { ...graph, nodes, outputs: graph.outputs.map(to) };
}

/** Drops nodes no output depends on (an exporter's leftovers) and the weights only they used. */
function pruneUnused(graph: Graph): Graph {
  const live = liveValues(graph);
  const nodes = graph.nodes.filter((n) => n.op === 'input' || live.has(n.id));
  const used = new Set(nodes.flatMap((n) => weightsOf(n)));
  const weights: Record<string, Weight> = {};
  for (const [name, w] of Object.entries(graph.weights)) if (used.has(name)) weights[name] = w;
  return { ...graph, nodes, weights };
}
