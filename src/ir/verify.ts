// The verifier: the IR's validity rules, checked after every pass in tests.
// Each rule is one line in RULES below; a graph is valid when no rule reports a problem.
import { GraphError } from './errors.ts';
import { limitProblems, tensorProblem } from './limits.ts';
import { expectedWeightShapes, inferType, inputsOf, weightsOf } from './node.ts';
import { formatShape, sameShape } from './shapes.ts';
import { bnWeightNames, RESERVED_NAME, type Graph, type TensorType, type ValueId } from './types.ts';

export { RESERVED_NAME };

export interface Problem {
  /** `%value`, `@weight` or `graph`. */
  readonly where: string;
  readonly message: string;
}

/**
 * Weight arrays known to hold only finite values. Weight data is never written after it is made
 * (passes allocate new arrays), so an array checked once stays checked: the pass manager verifies
 * after every pass, and most weights pass through most passes unchanged.
 */
const checkedFinite = new WeakSet<Float32Array>();

/** The index of the first value that is not finite, or -1. */
function firstNonFinite(data: Float32Array): number {
  if (checkedFinite.has(data)) return -1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  checkedFinite.add(data);
  return -1;
}

/** All problems of a graph, in graph order. Empty means valid. */
export function findProblems(graph: Graph): Problem[] {
  const problems: Problem[] = [];
  const report = (where: string, message: string) => problems.push({ where, message });
  const types = new Map<ValueId, TensorType>();
  const used = new Set<ValueId>(graph.outputs);
  const usedWeights = new Set<string>();

  for (const node of graph.nodes) {
    const where = `%${node.id}`;
    if (node.id === RESERVED_NAME) report(where, `${node.op}: "${RESERVED_NAME}" cannot name a value`);
    for (const w of weightsOf(node)) if (w === RESERVED_NAME) report(where, `${node.op}: "${RESERVED_NAME}" cannot name a weight`);
    if (types.has(node.id)) report(where, `${node.op}: value %${node.id} is defined twice (SSA)`);
    const inputs = inputsOf(node);
    const missing = inputs.filter((v) => !types.has(v));
    for (const v of missing) {
      const later = graph.nodes.some((n) => n.id === v);
      report(where, `${node.op}: reads %${v}, which is ${later ? 'defined after its use' : 'never defined'}`);
    }
    inputs.forEach((v) => used.add(v));
    if (missing.length === 0) {
      try {
        const typeOf = (v: ValueId) => types.get(v) as TensorType;
        const inferred = inferType(node, typeOf);
        for (const problem of limitProblems(node, typeOf)) report(where, problem);
        if (node.type.dtype !== 'f32') report(where, `${node.op}: dtype ${node.type.dtype} is not supported (f32 only)`);
        if (!sameShape(inferred.shape, node.type.shape)) {
          report(
            where,
            `${node.op}: declared type ${formatShape(node.type.shape)} but the shape rule gives ${formatShape(inferred.shape)}`,
          );
        }
        for (const [name, shape] of expectedWeightShapes(node, typeOf)) {
          usedWeights.add(name);
          const w = Object.hasOwn(graph.weights, name) ? graph.weights[name] : undefined;
          if (!w) {
            report(where, `${node.op}: weight @${name} is missing`);
            continue;
          }
          if (!sameShape(w.shape, shape)) {
            report(where, `${node.op}: weight @${name} has shape ${formatShape(w.shape)}, expected ${formatShape(shape)}`);
          }
        }
      } catch (e) {
        if (!(e instanceof GraphError)) throw e;
        report(where, e.message.replace(`${where}: `, ''));
      }
    }
    weightsOf(node).forEach((w) => usedWeights.add(w));
    if (!types.has(node.id)) types.set(node.id, node.type);
  }

  const listed = new Set<ValueId>();
  for (const out of graph.outputs) {
    if (!types.has(out)) report('graph', `output %${out} is never defined`);
    // Outputs are returned by name (and declared by name in model.d.ts): each one once.
    if (listed.has(out)) report('graph', `output %${out} is listed twice`);
    listed.add(out);
  }
  if (graph.outputs.length === 0) report('graph', 'the graph has no outputs');
  if (!graph.nodes.some((n) => n.op === 'input')) report('graph', 'the graph has no inputs');
  for (const node of graph.nodes) {
    if (node.op !== 'input' && !used.has(node.id)) report(`%${node.id}`, `${node.op}: value is never used (dangling)`);
  }
  for (const [name, w] of Object.entries(graph.weights)) {
    if (!usedWeights.has(name)) report(`@${name}`, 'weight is not used by any node');
    const tooLarge = tensorProblem(w.shape);
    if (tooLarge !== null) report(`@${name}`, `shape ${tooLarge}`);
    const expected = w.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== expected) report(`@${name}`, `has ${w.data.length} values but shape ${formatShape(w.shape)} needs ${expected}`);
    const bad = firstNonFinite(w.data);
    if (bad >= 0) report(`@${name}`, `value ${w.data[bad]} at index ${bad} (weights must be finite)`);
  }
  // A negative running variance makes sqrt(var + eps) NaN for every input: a broken export or
  // edit, refused here with its channel named rather than seen as NaN outputs at run time.
  for (const node of graph.nodes) {
    if (node.op !== 'batch_norm') continue;
    const variance = graph.weights[bnWeightNames(node.params).variance]?.data ?? [];
    const negative = variance.findIndex((v) => v < 0);
    if (negative >= 0) report(`%${node.id}`, `batch_norm: running variance ${variance[negative]} of channel ${negative} is negative`);
  }
  return problems;
}

/** Throws a GraphError listing every problem if the graph is not valid; returns it otherwise. */
export function verify(graph: Graph): Graph {
  const problems = findProblems(graph);
  if (problems.length > 0) {
    const lines = problems.slice(0, 20).map((p) => `  ${p.where}: ${p.message}`);
    if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more`);
    throw new GraphError(
      `graph ${graph.name} is invalid (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${lines.join('\n')}`,
    );
  }
  return graph;
}

/** Value types by id (assumes a verified graph). */
export function typeMap(graph: Graph): ReadonlyMap<ValueId, TensorType> {
  return new Map(graph.nodes.map((n) => [n.id, n.type]));
}
