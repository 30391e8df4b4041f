// The printer of the textual IR: deterministic (the same graph gives the same bytes), every
// attribute of every op spelled out, weights as shape plus digest. The grammar is in parser.ts.
import { weightDigest } from '../digest.ts';
import { graphInputs, weightsOf } from '../node.ts';
import type { Graph, Node, WeightName } from '../types.ts';
import { printedParts } from '../ops.ts';
import { formatGraphName, formatOperand, formatType, formatValue, formatWeight } from './syntax.ts';

export function printGraph(graph: Graph): string {
  const inputs = graphInputs(graph).map((n) => `${formatValue(n.id)}: ${formatType(n.type)}`);
  const outputs = graph.outputs.map(formatValue);
  // Graph attributes: only the border layout so far, printed when the graph records one.
  const attributes = graph.layout ? ` attributes {input_layout=${graph.layout.input}}` : '';
  const header = `graph ${formatGraphName(graph.name)}(${inputs.join(', ')}) -> (${outputs.join(', ')})${attributes} {`;
  const declarations = weightOrder(graph).map((name) => {
    const w = graph.weights[name];
    // An invalid graph (say, after a faulty pass) still prints; the parser reports the reference.
    return w ? `  ${formatWeight(name)} : f32[${w.shape.join(',')}] #${weightDigest(w)}` : `  // missing weight ${formatWeight(name)}`;
  });
  const statements = graph.nodes.flatMap((n) => (n.op === 'input' ? [] : [`  ${printNode(n)}`]));
  const sections = [declarations, statements].filter((s) => s.length > 0).map((s) => s.join('\n'));
  return `${[header, sections.join('\n\n'), '}'].filter((s) => s.length > 0).join('\n')}\n`;
}

/** `%id = op operands {attrs} : type`; trailing absent optional weights are omitted. */
export function printNode(node: Exclude<Node, { op: 'input' }>): string {
  const { operands, attrs } = printedParts(node.op, node);
  let count = operands.length;
  while (count > 0 && operands[count - 1].kind === 'absent') count--;
  const args = operands.slice(0, count).map(formatOperand).join(', ');
  const attributes = attrs.length > 0 ? ` {${attrs.map(([k, v]) => `${k}=${v}`).join(', ')}}` : '';
  return `${formatValue(node.id)} = ${node.op}${args ? ` ${args}` : ''}${attributes} : ${formatType(node.type)}`;
}

/** Weights in order of first use by the nodes, then any unused ones by name. */
function weightOrder(graph: Graph): WeightName[] {
  const order = new Set<WeightName>();
  for (const n of graph.nodes) for (const w of weightsOf(n)) order.add(w);
  const unused = Object.keys(graph.weights)
    .filter((w) => !order.has(w))
    .sort();
  return [...order, ...unused];
}
