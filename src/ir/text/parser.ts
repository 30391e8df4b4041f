// The parser of the textual IR. It reads declared types and computes none: after parsing it runs
// the verifier, whose problems are reported at the line of the node or weight they concern.
//
// Grammar (EBNF; tokens in lexer.ts; `//` starts a comment that runs to the end of the line):
//
//   file        = "graph" graph-name "(" [ input { "," input } ] ")"
//                 "->" "(" [ VALUE { "," VALUE } ] ")" [ "attributes" attrs ] "{" { statement } "}" ;
//   graph-name  = WORD | STRING ;
//   input       = VALUE ":" type ;                      (graph inputs, in order)
//   statement   = weight-decl | node ;
//   weight-decl = WEIGHT ":" type [ DIGEST ] ;
//   node        = VALUE "=" OP [ operand { "," operand } ] [ attrs ] ":" type ;
//   attrs       = "{" [ attr { "," attr } ] "}" ;
//   operand     = VALUE | WEIGHT | "_" ;                 ("_" = an absent optional weight)
//   attr        = WORD "=" attr-value ;
//   attr-value  = NUMBER | PAIR | WORD | "[" [ NUMBER { "," NUMBER } ] "]" ;
//   type        = "f32" "[" [ INT { "," INT } ] "]" ;
//
//   VALUE  = "%" NAME      WEIGHT = "@" NAME      NAME = [A-Za-z0-9_.]+ | STRING
//   STRING = a JSON string literal on one line, e.g. "/features/0/Conv"
//   WORD   = [A-Za-z_][A-Za-z0-9_.]*      OP = a WORD naming an op      INT = [0-9]+
//   DIGEST = "#" 8 lowercase hex digits (digest.ts: FNV-1a of the weight's shape and bytes)
//   NUMBER = -?(digits[.digits]|.digits)([eE][+-]?digits)? | nan | inf | -inf      PAIR = INT "x" INT
//
// Operands and attributes of each op are in its record (ops.ts); every attribute is required,
// in any order. Trailing absent optional weights may be left out (`conv2d %x, @w` has no bias).
// The only graph attribute is input_layout=NCHW|NHWC (Graph.layout), printed when the graph has one.
// `batch_norm %x, @bn1` names the weight family @bn1.gamma, @bn1.beta, @bn1.mean, @bn1.var.
// Values are defined once and before use; weight declarations may stand anywhere in the body.
// A weight declared without a digest is checked for its shape only.
//
// The weights (from a weights file) come separately and must match the declarations: each
// declared weight present with the declared shape and digest, and no weight left undeclared.
import { weightDigest, isDigest } from '../digest.ts';
import { ParseError } from '../errors.ts';
import { weightsOf } from '../node.ts';
import type { Activation, Graph, InputNode, Node, NodeOf, Padding, Pair, TensorType, ValueId, Weight, Weights } from '../types.ts';
import { f32 } from '../types.ts';
import { findProblems, RESERVED_NAME } from '../verify.ts';
import { describeToken, tokenize, type Token, type TokenKind } from './lexer.ts';
import { BODY_OPS, isBodyOp, opSyntax } from '../ops.ts';
import { ACTIVATIONS, parseFloatLiteral, type BodyOp, type NodeReader, type OpSyntax } from './syntax.ts';

export function parseGraph(text: string, weights: Weights, file = '<input>'): Graph {
  return new Parser(tokenize(text, file), file).parse(weights);
}

type ParsedOperand = { readonly kind: 'value' | 'weight' | 'absent'; readonly name: string; readonly at: Token };
type AttrValue =
  | { readonly kind: 'number' | 'pair' | 'word'; readonly at: Token }
  | { readonly kind: 'list'; readonly items: readonly Token[]; readonly at: Token };

interface WeightDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly digest: Token | null;
  readonly at: Token;
}

/** A reference checked once the whole body is read (values may not be used before definition). */
interface Reference {
  readonly kind: 'value' | 'weight';
  readonly name: string;
  readonly at: Token;
  readonly user: string;
  /** For values: the index of the defining statement that must come before. */
  readonly statement: number;
}

class Parser {
  private pos = 0;
  private readonly nodes: Node[] = [];
  /** Where each value is defined (token) and in which statement (-1 for graph inputs). */
  private readonly definitions = new Map<ValueId, { at: Token; statement: number }>();
  private readonly declarations = new Map<string, WeightDecl>();
  private readonly references: Reference[] = [];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly file: string,
  ) {}

  parse(weights: Weights): Graph {
    const start = this.expectWord('graph', "a graph: 'graph name(%input: f32[...]) -> (%output) { ... }'");
    const nameToken = this.next();
    if (nameToken.kind !== 'word' && nameToken.kind !== 'string') this.fail(nameToken, 'a graph name');
    this.expectPunct('(', "'(' before the graph inputs");
    if (!this.atPunct(')')) {
      do this.parseInput();
      while (this.acceptPunct(','));
    }
    this.expectPunct(')', "',' or ')' after a graph input");
    this.expectPunct('->', "'->' before the graph outputs");
    this.expectPunct('(', "'(' before the graph outputs");
    const outputs: Token[] = [];
    if (!this.atPunct(')')) {
      do outputs.push(this.expectKind('value', 'an output value (%name)'));
      while (this.acceptPunct(','));
    }
    this.expectPunct(')', "',' or ')' after a graph output");
    const layout = this.peek().kind === 'word' && this.peek().value === 'attributes' ? this.parseGraphAttrs() : undefined;
    this.expectPunct('{', "'{' to open the graph body (or 'attributes {...}')");
    let statement = 0;
    while (!this.atPunct('}')) {
      const t = this.peek();
      if (t.kind === 'weight') this.parseWeightDecl();
      else if (t.kind === 'value') this.parseNode(statement++);
      else this.fail(t, "a weight declaration (@name : f32[...] #digest), a node (%name = op ...) or '}'");
    }
    this.next();
    this.expectKind('eof', "end of input after the closing '}'");

    outputs.forEach((o) => this.references.push({ kind: 'value', name: o.value, at: o, user: 'the graph outputs', statement: Infinity }));
    this.checkReferences();
    const graphWeights = this.matchWeights(weights, start);
    const graph: Graph = {
      name: nameToken.value,
      nodes: this.nodes,
      outputs: outputs.map((o) => o.value),
      weights: graphWeights,
      ...(layout && { layout }),
    };
    this.verify(graph, start);
    return graph;
  }

  // ---- statements

  /** `attributes {input_layout=NCHW}` after the outputs: the graph's border layout. */
  private parseGraphAttrs(): Graph['layout'] {
    const keyword = this.next();
    const attrs = this.parseAttrs();
    let layout: Graph['layout'];
    for (const [name, { name: at, value }] of attrs) {
      if (name !== 'input_layout') this.error(at, `unknown graph attribute '${name}' (graph attributes: input_layout)`);
      if (value.kind !== 'word' || (value.at.value !== 'NCHW' && value.at.value !== 'NHWC')) {
        this.fail(value.at, "NCHW or NHWC for 'input_layout'");
      }
      layout = { input: value.at.value };
    }
    if (!layout) this.error(keyword, "expected graph attribute 'input_layout' in 'attributes {...}'");
    return layout;
  }

  private parseInput(): void {
    const at = this.expectKind('value', 'a graph input (%name: f32[...])');
    this.expectPunct(':', `':' and the type of input %${at.value}`);
    const node: InputNode = { op: 'input', id: at.value, type: this.parseType() };
    this.define(at, -1);
    this.nodes.push(node);
  }

  private parseWeightDecl(): void {
    const at = this.next();
    this.expectPunct(':', `':' and the type of weight @${at.value}`);
    const shape = this.parseType().shape;
    const digest = this.peek().kind === 'digest' ? this.next() : null;
    if (digest && !isDigest(digest.value)) this.fail(digest, 'a digest of 8 lowercase hex digits', `found #${digest.value}`);
    const earlier = this.declarations.get(at.value);
    if (earlier) this.error(at, `weight @${at.value} is declared twice (first at line ${earlier.at.line})`);
    this.declarations.set(at.value, { name: at.value, shape, digest, at });
  }

  private parseNode(statement: number): void {
    const at = this.next();
    this.expectPunct('=', `'=' after %${at.value}`);
    const opToken = this.expectKind('word', `an op name after '%${at.value} ='`);
    const op = opToken.value;
    if (op === 'input') this.error(opToken, `inputs are declared in the graph header: graph name(%${at.value}: f32[...]) -> ...`);
    if (!isBodyOp(op)) this.error(opToken, `unknown op '${op}' (known ops: ${BODY_OPS.join(', ')})`);
    const operands = this.parseOperands();
    const attrs = this.atPunct('{') ? this.parseAttrs() : new Map<string, { name: Token; value: AttrValue }>();
    this.expectPunct(':', `':' and the result type of %${at.value}`);
    const type = this.parseType();
    const reader = new OperandReader(this, op, opToken, operands, attrs);
    const node = buildNode(op, at.value, type, reader);
    reader.finish();
    for (const o of operands) {
      if (o.kind === 'value') this.references.push({ kind: 'value', name: o.name, at: o.at, user: `%${at.value}`, statement });
    }
    for (const w of weightsOf(node)) {
      const ref = operands.find((o) => o.kind === 'weight' && (o.name === w || w.startsWith(`${o.name}.`)));
      this.references.push({ kind: 'weight', name: w, at: ref?.at ?? opToken, user: `%${at.value}`, statement });
    }
    this.define(at, statement);
    this.nodes.push(node);
  }

  private parseOperands(): ParsedOperand[] {
    const operands: ParsedOperand[] = [];
    const isOperand = (t: Token) => t.kind === 'value' || t.kind === 'weight' || (t.kind === 'word' && t.value === '_');
    if (!isOperand(this.peek())) return operands;
    do {
      const t = this.next();
      if (!isOperand(t)) this.fail(t, 'an operand (%value, @weight or _)');
      operands.push({ kind: t.kind === 'word' ? 'absent' : (t.kind as 'value' | 'weight'), name: t.value, at: t });
    } while (this.acceptPunct(','));
    return operands;
  }

  private parseAttrs(): Map<string, { name: Token; value: AttrValue }> {
    this.next();
    const attrs = new Map<string, { name: Token; value: AttrValue }>();
    if (!this.atPunct('}')) {
      do {
        const name = this.expectKind('word', 'an attribute name');
        this.expectPunct('=', `'=' after attribute '${name.value}'`);
        if (attrs.has(name.value)) this.error(name, `attribute '${name.value}' is given twice`);
        attrs.set(name.value, { name, value: this.parseAttrValue() });
      } while (this.acceptPunct(','));
    }
    this.expectPunct('}', "',' or '}' after an attribute");
    return attrs;
  }

  private parseAttrValue(): AttrValue {
    const at = this.next();
    if (at.kind === 'number' || at.kind === 'pair' || at.kind === 'word') return { kind: at.kind, at };
    if (at.kind !== 'punct' || at.value !== '[') this.fail(at, 'an attribute value (a number, 3x3, a word or [1,2,...])');
    const items: Token[] = [];
    if (!this.atPunct(']')) {
      do items.push(this.expectKind('number', 'a number in the list'));
      while (this.acceptPunct(','));
    }
    this.expectPunct(']', "',' or ']' in the list");
    return { kind: 'list', items, at };
  }

  private parseType(): TensorType {
    const dtype = this.expectKind('word', 'a type such as f32[1,32,32,3]');
    if (dtype.value !== 'f32') this.error(dtype, `unsupported dtype '${dtype.value}' (expected f32)`);
    this.expectPunct('[', "'[' and the dimensions of the shape");
    const shape: number[] = [];
    if (!this.atPunct(']')) {
      do shape.push(this.integer(this.expectKind('number', 'a dimension (a non-negative integer)'), 'a dimension', 0));
      while (this.acceptPunct(','));
    }
    this.expectPunct(']', "',' or ']' in the shape");
    return f32(shape);
  }

  private define(at: Token, statement: number): void {
    const earlier = this.definitions.get(at.value);
    if (earlier) this.error(at, `value %${at.value} is defined twice (first at line ${earlier.at.line}); values are single-assignment`);
    this.definitions.set(at.value, { at, statement });
  }

  // ---- checks after parsing

  private checkReferences(): void {
    for (const r of this.references) {
      if (r.kind === 'weight') {
        if (!this.declarations.has(r.name)) {
          this.error(r.at, `${r.user} uses weight @${r.name}, which is not declared (declare it as @${r.name} : f32[...] #digest)`);
        }
        continue;
      }
      const def = this.definitions.get(r.name);
      if (!def) this.error(r.at, `undefined value %${r.name} (used by ${r.user})`);
      else if (def.statement >= r.statement) {
        this.error(r.at, `value %${r.name} is used by ${r.user} before its definition at line ${def.at.line}`);
      }
    }
  }

  /** The graph's weights: the given ones, in declaration order, checked against the declarations. */
  private matchWeights(weights: Weights, start: Token): Weights {
    const matched: Record<string, Weight> = {};
    for (const d of this.declarations.values()) {
      if (d.name === RESERVED_NAME) this.error(d.at, `"${RESERVED_NAME}" cannot name a weight`);
      const w = Object.hasOwn(weights, d.name) ? weights[d.name] : undefined;
      if (!w) this.error(d.at, `weight @${d.name} is declared but the weights do not have it`);
      else if (!sameShape(w.shape, d.shape)) {
        this.error(d.at, `weight @${d.name} is declared f32[${d.shape.join(',')}] but the weights hold f32[${w.shape.join(',')}]`);
      } else if (d.digest) {
        const actual = weightDigest(w);
        if (actual !== d.digest.value) {
          this.error(
            d.digest,
            `weight @${d.name} is declared with digest #${d.digest.value} but the weights' data digests to #${actual} (the weights file does not belong to this IR)`,
          );
        }
      }
      matched[d.name] = w!;
    }
    const undeclared = Object.keys(weights).filter((n) => !this.declarations.has(n));
    if (undeclared.length > 0) {
      const names = undeclared
        .slice(0, 5)
        .map((n) => `@${n}`)
        .join(', ');
      this.error(
        start,
        `the weights hold ${undeclared.length} tensor(s) the graph does not declare: ${names}${undeclared.length > 5 ? ', ...' : ''}`,
      );
    }
    return matched;
  }

  /** Runs the verifier; its problems are reported at the node's or weight's line. */
  private verify(graph: Graph, start: Token): void {
    const problems = findProblems(graph);
    if (problems.length === 0) return;
    const locate = (where: string): Token => {
      if (where.startsWith('%')) return this.definitions.get(where.slice(1))?.at ?? start;
      if (where.startsWith('@')) return this.declarations.get(where.slice(1))?.at ?? start;
      return start;
    };
    const [first, ...rest] = problems;
    const more = rest.slice(0, 10).map((p) => {
      const t = locate(p.where);
      return `\n  ${this.file}:${t.line}:${t.column}: ${p.where}: ${p.message}`;
    });
    const tail = rest.length > 0 ? `\n${rest.length} more problem(s):${more.join('')}${rest.length > 10 ? '\n  ...' : ''}` : '';
    this.error(locate(first.where), `${first.where}: ${first.message}${tail}`);
  }

  // ---- tokens

  peek(): Token {
    return this.tokens[this.pos];
  }

  next(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private atPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === p;
  }

  private acceptPunct(p: string): boolean {
    if (!this.atPunct(p)) return false;
    this.next();
    return true;
  }

  private expectPunct(p: string, expected: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== p) this.fail(t, expected);
    return t;
  }

  private expectKind(kind: TokenKind, expected: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(t, expected);
    return t;
  }

  private expectWord(word: string, expected: string): Token {
    const t = this.next();
    if (t.kind !== 'word' || t.value !== word) this.fail(t, expected);
    return t;
  }

  integer(t: Token, what: string, min: number): number {
    const n = Number(t.value);
    if (!/^-?\d+$/.test(t.value) || !Number.isSafeInteger(n) || n < min) {
      this.error(t, `${what} must be an integer${min === 0 ? ' >= 0' : ''}, found '${t.value}'`);
    }
    return n;
  }

  /** "expected X, found Y". */
  fail(t: Token, expected: string, found = `found ${describeToken(t)}`): never {
    this.error(t, `expected ${expected}, ${found}`);
  }

  error(t: Token, message: string): never {
    throw new ParseError(message, t.line, t.column, this.file);
  }
}

function buildNode<O extends BodyOp>(op: O, id: ValueId, type: TensorType, reader: NodeReader): NodeOf<O> {
  const syntax: OpSyntax<O> = opSyntax(op);
  // The spread of an op's fields with its op tag is that op's node; TS cannot see it through O.
  return { op, id, type, ...syntax.read(reader) } as unknown as NodeOf<O>;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Hands an op's `read` its operands in order and its attributes by name, checking their kinds. */
class OperandReader implements NodeReader {
  private next = 0;
  private readonly requested: string[] = [];

  constructor(
    private readonly parser: Parser,
    private readonly op: BodyOp,
    private readonly opToken: Token,
    private readonly operands: readonly ParsedOperand[],
    private readonly attrs: ReadonlyMap<string, { name: Token; value: AttrValue }>,
  ) {}

  value(): ValueId {
    return this.operand('value', 'a value (%name)').name;
  }

  values(min: number): ValueId[] {
    const names: ValueId[] = [];
    while (this.next < this.operands.length) names.push(this.value());
    if (names.length < min) {
      this.parser.error(this.opToken, `${this.op} takes at least ${min} value operand${min > 1 ? 's' : ''}, found ${names.length}`);
    }
    return names;
  }

  weight(): string {
    return this.operand('weight', 'a weight (@name)').name;
  }

  optionalWeight(): string | null {
    const o = this.operands[this.next];
    if (o === undefined) return null;
    if (o.kind === 'absent') {
      this.next++;
      return null;
    }
    return this.weight();
  }

  weightPrefix(): string {
    return this.operand('weight', 'a weight family (@name for @name.gamma, ...)').name;
  }

  private operand(kind: 'value' | 'weight', what: string): ParsedOperand {
    const o = this.operands[this.next];
    const index = this.next + 1;
    if (o === undefined) this.parser.error(this.opToken, `${this.op} expects ${what} as operand ${index}, found none`);
    if (o.kind !== kind) {
      const found = o.kind === 'absent' ? "'_'" : o.kind === 'value' ? `value %${o.name}` : `weight @${o.name}`;
      this.parser.error(o.at, `${this.op} expects ${what} as operand ${index}, found ${found}`);
    }
    this.next++;
    return o;
  }

  private attr(name: string): AttrValue {
    this.requested.push(name);
    const a = this.attrs.get(name);
    if (!a) this.parser.error(this.opToken, `${this.op} needs attribute '${name}'`);
    return a.value;
  }

  private mismatch(name: string, v: AttrValue, expected: string): never {
    const found = v.kind === 'list' ? 'a list' : `'${v.at.value}'`;
    return this.parser.error(v.at, `attribute '${name}' of ${this.op} must be ${expected}, found ${found}`);
  }

  pair(name: string): Pair {
    const v = this.attr(name);
    if (v.kind !== 'pair') return this.mismatch(name, v, 'a pair like 3x3');
    const [a, b] = v.at.value.split('x').map(Number);
    return [a, b];
  }

  int(name: string): number {
    const v = this.attr(name);
    if (v.kind !== 'number') return this.mismatch(name, v, 'an integer');
    return this.parser.integer(v.at, `attribute '${name}' of ${this.op}`, -Infinity);
  }

  float(name: string): number {
    const v = this.attr(name);
    const special = v.kind === 'word' && (v.at.value === 'nan' || v.at.value === 'inf');
    if (v.kind !== 'number' && !special) return this.mismatch(name, v, 'a number');
    return parseFloatLiteral(v.at.value);
  }

  bool(name: string): boolean {
    const v = this.attr(name);
    if (v.kind !== 'word' || (v.at.value !== 'true' && v.at.value !== 'false')) return this.mismatch(name, v, 'true or false');
    return v.at.value === 'true';
  }

  padding(name: string): Padding {
    const v = this.attr(name);
    if (v.kind === 'word' && (v.at.value === 'same' || v.at.value === 'valid')) return { kind: v.at.value };
    if (v.kind !== 'list' || v.items.length !== 4) return this.mismatch(name, v, 'same, valid or [top,bottom,left,right]');
    const [top, bottom, left, right] = v.items.map((t) => this.parser.integer(t, `padding of ${this.op}`, 0));
    return { kind: 'explicit', top, bottom, left, right };
  }

  activation(name: string): Activation {
    const v = this.attr(name);
    const found = ACTIVATIONS.find((a) => v.kind === 'word' && v.at.value === a);
    return found ?? this.mismatch(name, v, ACTIVATIONS.join(', ').replace(/, ([^,]*)$/, ' or $1'));
  }

  intList(name: string): number[] {
    const v = this.attr(name);
    if (v.kind !== 'list') return this.mismatch(name, v, 'a list of integers like [0,2,5]');
    return v.items.map((t) => this.parser.integer(t, `an element of '${name}'`, -Infinity));
  }

  /** Rejects operands and attributes the op's syntax did not ask for. */
  finish(): void {
    const extra = this.operands[this.next];
    if (extra) {
      this.parser.error(extra.at, `${this.op} takes ${this.next} operand${this.next === 1 ? '' : 's'}, found ${this.operands.length}`);
    }
    for (const [name, { name: at }] of this.attrs) {
      if (!this.requested.includes(name)) {
        const known = this.requested.length > 0 ? `its attributes are ${this.requested.join(', ')}` : 'it takes no attributes';
        this.parser.error(at, `${this.op} has no attribute '${name}' (${known})`);
      }
    }
  }
}
