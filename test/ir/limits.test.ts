// Semantic limits of the verifier: well-typed graphs that ask for what no executor can give are
// refused with the node named, by the parser (at the node's line), the API and `slimc inspect`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/ir/limits.ts';
import { parseGraph } from '../../src/ir/text/parser.ts';
import type { Weight, Weights } from '../../src/ir/types.ts';
import { f32 } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { decodeWeights, encodeWeights } from '../../src/ir/weights_file.ts';
import { runMain } from '../helpers/cli.ts';

const weight = (shape: readonly number[]): Weight => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });

/** A graph of one statement after `%x: f32[1,4,4,2]`, its weights declared without digests. */
function oneNode(statement: string, weights: Weights = {}, input = 'f32[1,4,4,2]'): string {
  const decls = Object.entries(weights).map(([name, w]) => `  @${name} : f32[${w.shape.join(',')}]\n`);
  return `graph g(%x: ${input}) -> (%y) {\n${decls.join('')}  ${statement}\n}\n`;
}

const conv = { 'c.w': weight([3, 1, 2, 2]) };
const bn = { 'bn.gamma': weight([2]), 'bn.beta': weight([2]), 'bn.mean': weight([2]), 'bn.var': weight([2]) };

describe('limits', () => {
  it('a window dilated or strided past its padded input is refused at its line', () => {
    expect(() =>
      parseGraph(
        oneNode(
          '%y = conv2d %x, @c.w {kernel=3x1, stride=1x1, dilation=4294967295x1, pad=same, groups=1, activation=none} : f32[1,4,4,2]',
          conv,
        ),
        conv,
        'm.slim',
      ),
    ).toThrow(
      /m\.slim:3:\d+: .*conv2d: the padded input height is 8589934594 \(input 4, padding 4294967295\+4294967295, window 8589934591\), more than the 65536 slimc allows/,
    );
    expect(() => parseGraph(oneNode('%y = max_pool %x {kernel=1x1, stride=100x1, pad=valid} : f32[1,1,4,2]'), {}, 'm.slim')).toThrow(
      /m\.slim:2:\d+: .*max_pool: stride 100 is larger than the padded input height 4/,
    );
    expect(() =>
      parseGraph(
        oneNode('%y = avg_pool %x {kernel=1x1, stride=1x1, pad=[70000,0,0,0], count_include_pad=true} : f32[1,70004,4,2]'),
        {},
        'm.slim',
      ),
    ).toThrow(/avg_pool: the padded input height is 70004/);
  });

  it('eps of a batch norm must be finite and positive', () => {
    for (const [eps, shown] of [
      ['-1', '-1'],
      ['nan', 'NaN'],
      ['1e400', 'Infinity'],
      ['0', '0'],
    ]) {
      expect(() => parseGraph(oneNode(`%y = batch_norm %x, @bn {eps=${eps}} : f32[1,4,4,2]`, bn), bn, 'm.slim')).toThrow(
        new RegExp(`m\\.slim:6:\\d+: .*batch_norm: eps must be a finite number > 0, got ${shown}`),
      );
    }
  });

  it('a batch norm with a negative running variance is refused, naming the channel', () => {
    const negative = { ...bn, 'bn.var': { shape: [2], data: Float32Array.from([0.5, -0.25]) } };
    expect(() => parseGraph(oneNode('%y = batch_norm %x, @bn {eps=1e-5} : f32[1,4,4,2]', negative), negative, 'm.slim')).toThrow(
      /m\.slim:6:\d+: .*batch_norm: running variance -0\.25 of channel 1 is negative/,
    );
    expect(() => parseGraph(oneNode('%y = batch_norm %x, @bn {eps=1e-5} : f32[1,4,4,2]', bn), bn, 'm.slim')).not.toThrow();
  });

  it('tensor sizes and operand counts are bounded', () => {
    expect(() => parseGraph(oneNode('%y = relu %x : f32[1,100000,100000,3]', {}, 'f32[1,100000,100000,3]'), {})).toThrow(
      new RegExp(`input: the value \\[1,100000,100000,3\\] has 30000000000 elements, more than the ${LIMITS.tensorElements}`),
    );
    const operands = Array.from({ length: 50_000 }, () => '%x').join(', ');
    expect(() => parseGraph(oneNode(`%y = add ${operands} : f32[1,4,4,2]`), {}, 'm.slim')).toThrow(
      /m\.slim:2:\d+: .*add: 50000 operands, more than the 1024 slimc allows/,
    );
    const huge: Weight = { shape: [1 << 15, 1 << 15], data: new Float32Array(0) };
    expect(() =>
      verify({
        name: 'g',
        nodes: [
          { op: 'input', id: 'x', type: f32([1, 4]) },
          { op: 'relu', id: 'y', input: 'x', type: f32([1, 4]) },
        ],
        outputs: ['y'],
        weights: { big: huge },
      }),
    ).toThrow(/@big: shape \[32768,32768\] has 1073741824 elements/);
  });

  it('a weight named __proto__ is refused by name, by the weights file and the parser alike', () => {
    const bytes = encodeWeights(Object.fromEntries([['__proto__', weight([2])]]));
    expect(() => decodeWeights(bytes, 'w.bin')).toThrow(/w\.bin: manifest entry 0 \(@__proto__\): "__proto__" cannot name a weight/);
    const text = 'graph g(%x: f32[1,2]) -> (%y) {\n  @"__proto__" : f32[2]\n  %y = scale_shift %x, @"__proto__" : f32[1,2]\n}\n';
    expect(() => parseGraph(text, {}, 'm.slim')).toThrow(/m\.slim:2:\d+: "__proto__" cannot name a weight/);
  });
});

describe('slimc inspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slimc-limits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a model past a limit with exit 1, naming the line and node', async () => {
    const model = join(dir, 'bad.slim');
    writeFileSync(model, oneNode('%y = batch_norm %x, @bn {eps=-1} : f32[1,4,4,2]', bn));
    writeFileSync(join(dir, 'bad.weights.bin'), encodeWeights(bn));
    const r = await runMain(['inspect', model]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.slim:6:\d+: .*%y.*batch_norm: eps must be a finite number > 0, got -1/);
  });
});
