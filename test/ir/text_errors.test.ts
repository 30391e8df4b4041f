// Errors of the textual IR parser: each is a ParseError at the line and column of the fault,
// saying what was expected or what does not fit.
import { describe, expect, it } from 'vitest';
import { weightDigest } from '../../src/ir/digest.ts';
import { ParseError } from '../../src/ir/errors.ts';
import { parseGraph } from '../../src/ir/text/parser.ts';
import type { Weight, Weights } from '../../src/ir/types.ts';

const weight = (shape: readonly number[], fill = (i: number) => i / 10): Weight => ({
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

/** A dense layer [1,4] -> [1,3]: the declaration is line 2, the node line 3. */
const FC = { 'fc.w': weight([4, 3]) };
const fcText = (decl = `@fc.w : f32[4,3] #${weightDigest(FC['fc.w'])}`, node = '%y = dense %x, @fc.w {activation=none} : f32[1,3]') =>
  `graph g(%x: f32[1,4]) -> (%y) {\n  ${decl}\n  ${node}\n}\n`;

function parseError(text: string, weights: Weights = {}): ParseError {
  try {
    parseGraph(text, weights, 'model.slim');
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError, the text parsed');
}

function expectError(text: string, weights: Weights, line: number, column: number, ...fragments: string[]): ParseError {
  const e = parseError(text, weights);
  expect({ line: e.line, column: e.column }).toEqual({ line, column });
  expect(e.message.startsWith(`model.slim:${line}:${column}: `)).toBe(true);
  for (const f of fragments) expect(e.message).toContain(f);
  return e;
}

describe('the valid fixture', () => {
  it('parses', () => {
    expect(parseGraph(fcText(), FC).nodes.map((n) => n.op)).toEqual(['input', 'dense']);
  });
});

describe('syntax errors', () => {
  it('unknown op: names it and lists the known ones', () => {
    expectError(
      fcText(undefined, '%y = dense2 %x, @fc.w : f32[1,3]'),
      FC,
      3,
      8,
      "unknown op 'dense2'",
      'known ops: conv2d, batch_norm, relu',
      'softmax',
    );
  });

  it('says what was expected and what was found', () => {
    expectError(fcText(undefined, '%y dense %x, @fc.w {activation=none} : f32[1,3]'), FC, 3, 6, "expected '=' after %y, found 'dense'");
    expectError(
      fcText(undefined, '%y = dense %x, @fc.w {activation=none} f32[1,3]'),
      FC,
      3,
      42,
      "expected ':' and the result type of %y, found 'f32'",
    );
    expectError('graph g(%x: f32[1,4]) -> (%x) {\n', {}, 2, 1, 'found end of input');
    expectError('graph g(%x: f32[1,4]) -> (%x) {\n  %y = relu %x : f64[1,4]\n}', {}, 2, 18, "unsupported dtype 'f64' (expected f32)");
    expectError('graph g(%x: f32[1,4]) -> (%x) {\n  %y = relu %x $\n}', {}, 2, 16, 'unexpected character "$"');
    expectError('graph g(%x: f32[1,4]) -> (%"x) {}', {}, 1, 28, 'unterminated string');
    expectError('graph g(%x: f32[1,-4]) -> (%x) {}', {}, 1, 19, "a dimension must be an integer >= 0, found '-4'");
    expectError('graph g(%x: f32[1,4]) -> (%x) {\n  %y = input : f32[1,4]\n}', {}, 2, 8, 'inputs are declared in the graph header');
  });

  it('attributes: missing, unknown, repeated, of the wrong kind', () => {
    expectError(fcText(undefined, '%y = dense %x, @fc.w : f32[1,3]'), FC, 3, 8, "dense needs attribute 'activation'");
    expectError(
      fcText(undefined, '%y = dense %x, @fc.w {activation=none, act=relu} : f32[1,3]'),
      FC,
      3,
      42,
      "dense has no attribute 'act' (its attributes are activation)",
    );
    expectError(
      fcText(undefined, '%y = dense %x, @fc.w {activation=none, activation=relu} : f32[1,3]'),
      FC,
      3,
      42,
      "attribute 'activation' is given twice",
    );
    expectError(
      fcText(undefined, '%y = dense %x, @fc.w {activation=gelu} : f32[1,3]'),
      FC,
      3,
      36,
      "attribute 'activation' of dense must be none, relu, relu6 or sigmoid, found 'gelu'",
    );
    const pool = (attrs: string) => `graph g(%x: f32[1,4,4,2]) -> (%y) {\n  %y = max_pool %x {${attrs}} : f32[1,2,2,2]\n}`;
    expectError(pool('kernel=2, stride=2x2, pad=valid'), {}, 2, 28, "attribute 'kernel' of max_pool must be a pair like 3x3, found '2'");
    expectError(pool('kernel=2x2, stride=2x2, pad=[1,1]'), {}, 2, 49, 'must be same, valid or [top,bottom,left,right], found a list');
    expectError(
      pool('kernel=2x2, stride=2x2, pad=valid, count_include_pad=true'),
      {},
      2,
      56,
      "max_pool has no attribute 'count_include_pad'",
    );
  });

  it('a digest is 8 lowercase hex digits', () => {
    expectError(fcText('@fc.w : f32[4,3] #12345'), FC, 2, 20, 'expected a digest of 8 lowercase hex digits, found #12345');
  });
});

describe('reference errors', () => {
  it('undefined value: at the operand', () => {
    expectError(fcText(undefined, '%y = dense %z, @fc.w {activation=none} : f32[1,3]'), FC, 3, 14, 'undefined value %z (used by %y)');
    expectError(
      'graph g(%x: f32[1,4]) -> (%out) {\n  %y = relu %x : f32[1,4]\n}',
      {},
      1,
      27,
      'undefined value %out (used by the graph outputs)',
    );
  });

  it('a value used before its definition', () => {
    const text = 'graph g(%x: f32[1,4]) -> (%b) {\n  %b = relu %a : f32[1,4]\n  %a = relu %x : f32[1,4]\n}';
    expectError(text, {}, 2, 13, 'value %a is used by %b before its definition at line 3');
  });

  it('a value defined twice', () => {
    const text = 'graph g(%x: f32[1,4]) -> (%a) {\n  %a = relu %x : f32[1,4]\n  %a = relu %x : f32[1,4]\n}';
    expectError(text, {}, 3, 3, 'value %a is defined twice (first at line 2)');
  });

  it('a weight that is not declared: at the operand', () => {
    expectError(
      fcText('// no declaration', '%y = dense %x, @fc.w {activation=none} : f32[1,3]'),
      {},
      3,
      18,
      'uses weight @fc.w, which is not declared',
    );
    const bn = `graph g(%x: f32[1,2]) -> (%y) {\n  @bn.gamma : f32[2]\n  %y = batch_norm %x, @bn {eps=0.001} : f32[1,2]\n}`;
    expectError(bn, { 'bn.gamma': weight([2]) }, 3, 23, 'uses weight @bn.beta, which is not declared');
  });
});

describe('arity', () => {
  it('too many operands: at the first extra one', () => {
    expectError('graph g(%x: f32[1,4]) -> (%y) {\n  %y = relu %x, %x : f32[1,4]\n}', {}, 2, 17, 'relu takes 1 operand, found 2');
  });

  it('too few operands', () => {
    expectError('graph g(%x: f32[1,4]) -> (%y) {\n  %y = add %x : f32[1,4]\n}', {}, 2, 8, 'add takes at least 2 value operands, found 1');
    expectError(
      fcText(undefined, '%y = dense %x {activation=none} : f32[1,3]'),
      FC,
      3,
      8,
      'dense expects a weight (@name) as operand 2, found none',
    );
  });

  it('an operand of the wrong kind', () => {
    expectError(
      fcText(undefined, '%y = dense @fc.w, %x {activation=none} : f32[1,3]'),
      FC,
      3,
      14,
      'dense expects a value (%name) as operand 1, found weight @fc.w',
    );
    expectError(
      fcText(undefined, '%y = dense %x, _ {activation=none} : f32[1,3]'),
      FC,
      3,
      18,
      "dense expects a weight (@name) as operand 2, found '_'",
    );
  });
});

describe('shape errors (the verifier, reported at the node)', () => {
  it('add of [1,8,8,16] and [1,8,8,32]', () => {
    const text = 'graph g(%a: f32[1,8,8,16], %b: f32[1,8,8,32]) -> (%s) {\n  %s = add %a, %b : f32[1,8,8,16]\n}';
    expectError(text, {}, 2, 3, '%s: add: operand 1 (%b) has shape [1,8,8,32] but operand 0 (%a) has [1,8,8,16]');
  });

  it('a declared type the shape rule does not give, with the further problems listed', () => {
    const text = 'graph g(%x: f32[1,4]) -> (%z) {\n  %y = relu %x : f32[1,5]\n  %z = relu %y : f32[1,4]\n}';
    const e = expectError(text, {}, 2, 3, 'relu: declared type [1,5] but the shape rule gives [1,4]');
    expect(e.message).toContain('1 more problem(s):\n  model.slim:3:3: %z: relu: declared type [1,4] but the shape rule gives [1,5]');
  });
});

describe('weights that do not match the text', () => {
  it('declared shape differs from the weights file: at the declaration', () => {
    expectError(fcText('@fc.w : f32[3,4]'), FC, 2, 3, 'weight @fc.w is declared f32[3,4] but the weights hold f32[4,3]');
  });

  it('a weight of the wrong shape for its node: at the node', () => {
    const square = { 'fc.w': weight([4, 4]) };
    expectError(fcText('@fc.w : f32[4,4]'), square, 3, 3, '%y: dense: weight @fc.w has shape [4,4], expected [4,3]');
  });

  it('digest mismatch: at the digest, with both digests', () => {
    const other = { 'fc.w': weight([4, 3], (i) => i) };
    const e = expectError(fcText(), other, 2, 20, `weight @fc.w is declared with digest #${weightDigest(FC['fc.w'])}`);
    expect(e.message).toContain(`digests to #${weightDigest(other['fc.w'])}`);
  });

  it('a declared weight missing from the weights', () => {
    expectError(fcText(), {}, 2, 3, 'weight @fc.w is declared but the weights do not have it');
  });

  it('tensors in the weights that the text does not declare', () => {
    expectError(fcText(), { ...FC, extra: weight([1]) }, 1, 1, 'the weights hold 1 tensor(s) the graph does not declare: @extra');
  });

  it('NaN in the weights (the verifier): at the declaration', () => {
    const nan = { 'fc.w': weight([4, 3], (i) => (i === 5 ? NaN : i)) };
    expectError(
      fcText(`@fc.w : f32[4,3] #${weightDigest(nan['fc.w'])}`),
      nan,
      2,
      3,
      '@fc.w: value NaN at index 5 (weights must be finite)',
    );
  });

  it('a weight declared but used by no node (the verifier)', () => {
    const text = `graph g(%x: f32[1,4]) -> (%x) {\n  @fc.w : f32[4,3]\n}`;
    expectError(text, FC, 2, 3, '@fc.w: weight is not used by any node');
  });
});
