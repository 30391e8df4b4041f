// How ops read and print in the textual IR: the shape of an op's syntax (each op's record in
// ops.ts states its operands and attributes once for the printer, `print`, and once for the
// parser, `read`, side by side) and the formats of names, numbers and types.
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

export const value = (name: ValueId): Operand => ({ kind: 'value', name });
export const weight = (name: WeightName | null): Operand => (name === null ? { kind: 'absent' } : { kind: 'weight', name });
/** The syntax of an op whose only operand is its input value and that has no attribute. */
export const unarySyntax = {
  print: (n: { input: ValueId }) => ({ operands: [value(n.input)], attrs: [] }),
  read: (r: NodeReader) => ({ input: r.value() }),
};
/** The syntax of an op whose operands are `min` or more values, without attributes. */
export const variadicSyntax = (min: number) => ({
  print: (n: { inputs: readonly ValueId[] }) => ({ operands: n.inputs.map(value), attrs: [] }),
  read: (r: NodeReader) => ({ inputs: r.values(min) }),
});

export const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu6', 'sigmoid'];

export const formatPair = (p: Pair) => `${p[0]}x${p[1]}`;

/** `same`, `valid`, or `[top,bottom,left,right]`. */
export const formatPadding = (p: Padding) => (p.kind === 'explicit' ? `[${p.top},${p.bottom},${p.left},${p.right}]` : p.kind);

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
