// How each op reads and prints in the textual IR: one entry per op (the table is keyed by the op
// union, so a new op does not compile until it has a syntax), each stating its operands and
// attributes once for the printer (`print`) and once for the parser (`read`), side by side.
import type { Activation, NodeOf, Op, Padding, Pair, TensorType, ValueId, WeightName } from '../types.ts';
import { NAME_CHAR } from './lexer.ts';

/** Ops written as statements in a graph body; inputs are declared in the graph's header. */
export type BodyOp = Exclude<Op, 'input'>;

export type Operand =
  | { readonly kind: 'value'; readonly name: ValueId }
  | { readonly kind: 'weight'; readonly name: WeightName }
  /** An absent optional weight, printed `_`. */
  | { readonly kind: 'absent' };

/** An attribute as printed: `name=text`. */
export type PrintedAttr = readonly [name: string, text: string];

export interface PrintedParts {
  readonly operands: readonly Operand[];
  readonly attrs: readonly PrintedAttr[];
}

/** What the parser offers an op's `read`: operands in order, attributes by name. */
export interface NodeReader {
  value(): ValueId;
  /** All remaining operands, each a value; at least `min` of them. */
  values(min: number): ValueId[];
  weight(): WeightName;
  /** A weight, or null for `_` or when no operand is left. */
  optionalWeight(): WeightName | null;
  /** A weight prefix naming a family of weights (`@bn1` for @bn1.gamma, ...). */
  weightPrefix(): string;
  pair(attr: string): Pair;
  int(attr: string): number;
  float(attr: string): number;
  bool(attr: string): boolean;
  padding(attr: string): Padding;
  activation(attr: string): Activation;
  intList(attr: string): number[];
}

type Fields<O extends BodyOp> = Omit<NodeOf<O>, 'op' | 'id' | 'type'>;

export interface OpSyntax<O extends BodyOp> {
  print(node: NodeOf<O>): PrintedParts;
  read(r: NodeReader): Fields<O>;
}

const value = (name: ValueId): Operand => ({ kind: 'value', name });
const weight = (name: WeightName | null): Operand => (name === null ? { kind: 'absent' } : { kind: 'weight', name });
const unary = { print: (n: { input: ValueId }) => ({ operands: [value(n.input)], attrs: [] }), read: (r: NodeReader) => ({ input: r.value() }) };
const variadic = (min: number) => ({
  print: (n: { inputs: readonly ValueId[] }) => ({ operands: n.inputs.map(value), attrs: [] }),
  read: (r: NodeReader) => ({ inputs: r.values(min) }),
});

export const OP_SYNTAX: { readonly [O in BodyOp]: OpSyntax<O> } = {
  conv2d: {
    print: (n) => ({
      operands: [value(n.input), weight(n.filter), weight(n.bias)],
      attrs: [
        ['kernel', formatPair(n.kernel)],
        ['stride', formatPair(n.strides)],
        ['dilation', formatPair(n.dilations)],
        ['pad', formatPadding(n.padding)],
        ['groups', String(n.groups)],
        ['activation', n.activation],
      ],
    }),
    read: (r) => ({
      input: r.value(),
      filter: r.weight(),
      bias: r.optionalWeight(),
      kernel: r.pair('kernel'),
      strides: r.pair('stride'),
      dilations: r.pair('dilation'),
      padding: r.padding('pad'),
      groups: r.int('groups'),
      activation: r.activation('activation'),
    }),
  },
  batch_norm: {
    print: (n) => ({ operands: [value(n.input), weight(n.params)], attrs: [['eps', formatFloat(n.epsilon)]] }),
    read: (r) => ({ input: r.value(), params: r.weightPrefix(), epsilon: r.float('eps') }),
  },
  relu: unary,
  relu6: unary,
  max_pool: {
    print: (n) => ({
      operands: [value(n.input)],
      attrs: [
        ['kernel', formatPair(n.kernel)],
        ['stride', formatPair(n.strides)],
        ['pad', formatPadding(n.padding)],
      ],
    }),
    read: (r) => ({ input: r.value(), kernel: r.pair('kernel'), strides: r.pair('stride'), padding: r.padding('pad') }),
  },
  avg_pool: {
    print: (n) => ({
      operands: [value(n.input)],
      attrs: [
        ['kernel', formatPair(n.kernel)],
        ['stride', formatPair(n.strides)],
        ['pad', formatPadding(n.padding)],
        ['count_include_pad', String(n.countIncludePad)],
      ],
    }),
    read: (r) => ({
      input: r.value(),
      kernel: r.pair('kernel'),
      strides: r.pair('stride'),
      padding: r.padding('pad'),
      countIncludePad: r.bool('count_include_pad'),
    }),
  },
  global_avg_pool: unary,
  add: variadic(2),
  concat: variadic(1),
  flatten: unary,
  dense: {
    print: (n) => ({ operands: [value(n.input), weight(n.weight), weight(n.bias)], attrs: [['activation', n.activation]] }),
    read: (r) => ({ input: r.value(), weight: r.weight(), bias: r.optionalWeight(), activation: r.activation('activation') }),
  },
  gather: {
    print: (n) => ({ operands: [value(n.input)], attrs: [['indices', `[${n.indices.join(',')}]`]] }),
    read: (r) => ({ input: r.value(), indices: r.intList('indices') }),
  },
  scale_shift: {
    print: (n) => ({ operands: [value(n.input), weight(n.scale), weight(n.shift)], attrs: [] }),
    read: (r) => ({ input: r.value(), scale: r.optionalWeight(), shift: r.optionalWeight() }),
  },
  softmax: unary,
};

export const BODY_OPS = Object.keys(OP_SYNTAX) as BodyOp[];

export const isBodyOp = (word: string): word is BodyOp => Object.hasOwn(OP_SYNTAX, word);

/** The printed parts of a node; `op` is `node.op`, passed apart so the entry's type follows it. */
export function printedParts<O extends BodyOp>(op: O, node: NodeOf<O>): PrintedParts {
  const syntax: OpSyntax<O> = OP_SYNTAX[op];
  return syntax.print(node);
}

export const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu6'];

export const formatPair = (p: Pair) => `${p[0]}x${p[1]}`;

/** `same`, `valid`, or `[top,bottom,left,right]`. */
export const formatPadding = (p: Padding) =>
  p.kind === 'explicit' ? `[${p.top},${p.bottom},${p.left},${p.right}]` : p.kind;

/** A float that parses back to the same double: JS's shortest round-trip form, plus -0, nan, inf. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return Object.is(x, -0) ? '-0' : String(x);
}

/** The number a float literal denotes (the inverse of formatFloat). */
export function parseFloatLiteral(text: string): number {
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

export const formatType = (t: TensorType) => `${t.dtype}[${t.shape.join(',')}]`;

const isPlainName = (name: string) => name.length > 0 && [...name].every((c) => NAME_CHAR.test(c));
const isPlainWord = (name: string) => /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name);

/** `%name`, or `%"quoted name"` when the name has characters other than [A-Za-z0-9_.]. */
export const formatValue = (name: ValueId) => `%${isPlainName(name) ? name : JSON.stringify(name)}`;
export const formatWeight = (name: WeightName) => `@${isPlainName(name) ? name : JSON.stringify(name)}`;
export const formatGraphName = (name: string) => (isPlainWord(name) ? name : JSON.stringify(name));

export function formatOperand(o: Operand): string {
  return o.kind === 'value' ? formatValue(o.name) : o.kind === 'weight' ? formatWeight(o.name) : '_';
}
