// Names from a model never run as code: a graph whose every name (graph, inputs, values, weights,
// outputs) is built to end a comment, a string or a script compiles, passes the check (which
// imports the module), predicts with the names as keys, and its model.d.ts type-checks.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importEmittedModule } from '../../src/codegen/check.ts';
import { compileGraph, writeCompiled } from '../../src/compiler/compile.ts';
import { commentText, jsLiteral, jsString, tsPropertyName } from '../../src/codegen/escape.ts';
import { parseGraph } from '../../src/ir/text/parser.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import { f32 } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { declarationProblems } from '../../scripts/fuzz/declarations.ts';
import { injectionPayloads } from '../../scripts/fuzz/mutate.ts';
import { graphOf } from '../helpers/graphs.ts';
import { scratchDir } from './emitted.ts';

const INJECTED = '__slimcInjected';
const global = globalThis as Record<string, unknown>;

/** Each payload, if pasted raw anywhere in model.js or model.d.ts, ends what it is in and runs. */
const payload = (tag: string, code = `globalThis.${INJECTED} = '${tag}';`) => [...injectionPayloads(tag, code), `${tag}\u0085\u00a0\ud800`];

describe('hostile names', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    const { rm } = await import('node:fs/promises');
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('the escaping forms denote the name exactly and hold nothing that ends a comment or a script', () => {
    for (const name of [...payload('v'), 'constructor', '__proto__', '']) {
      expect(new Function(`return ${jsString(name)};`)()).toBe(name);
      expect(JSON.parse(jsLiteral({ [name]: [name] }))).toEqual({ [name]: [name] });
      for (const form of [jsString(name), commentText(name), tsPropertyName(name)]) {
        expect(form).toMatch(/^[\x20-\x7e]*$/);
        expect(form).not.toMatch(/\*\/|<\/?script|</i);
      }
    }
    expect(tsPropertyName('logits')).toBe('logits');
    expect(tsPropertyName('__proto__')).toBe('"__proto__"');
  });

  it('compile, check, import and predict run no injected code; model.d.ts type-checks', async () => {
    const names = payload('n');
    const [x1, x2, conv, bn, relu, flat, dense, sum, out1, out2] = names.map((n, i) => `${i}${n}`);
    const w = (k: string) => `${k}${names[(k.length * 3) % names.length]}`;
    const graph = graphOf(
      `graph${names[2]}${names[0]}${names[4]}`,
      [
        { op: 'input', id: x1, type: f32([1, 4, 4, 2]) },
        { op: 'input', id: 'constructor', type: f32([1, 3]) },
        { op: 'input', id: x2, type: f32([1, 3]) },
        {
          op: 'conv2d',
          id: conv,
          type: f32([0, 0, 0, 3]),
          input: x1,
          filter: w('conv.w'),
          bias: w('conv.b'),
          kernel: [3, 3],
          strides: [1, 1],
          dilations: [1, 1],
          padding: { kind: 'same' },
          groups: 1,
          activation: 'none',
        },
        { op: 'batch_norm', id: bn, input: conv, params: w('bn'), epsilon: 1e-3 },
        { op: 'relu', id: relu, input: bn },
        { op: 'flatten', id: flat, input: relu },
        { op: 'dense', id: dense, type: f32([0, 3]), input: flat, weight: w('fc.w'), bias: null, activation: 'none' },
        { op: 'add', id: sum, inputs: [dense, x2, 'constructor'] },
        { op: 'relu6', id: out1, input: sum },
        { op: 'softmax', id: out2, input: sum },
      ],
      [out1, out2],
      {
        [w('conv.w')]: [3, 3, 2, 3],
        [w('conv.b')]: [3],
        [`${w('bn')}.gamma`]: [3],
        [`${w('bn')}.beta`]: [3],
        [`${w('bn')}.mean`]: [3],
        [`${w('bn')}.var`]: [3],
        [w('fc.w')]: [48, 3],
      },
    );
    // Batch-norm variances must be positive.
    const variance = graph.weights[`${w('bn')}.var`];
    variance.data.forEach((v, i) => (variance.data[i] = Math.abs(v) + 0.5));
    // The textual IR round-trips the names too.
    expect(printGraph(parseGraph(printGraph(verify(graph)), graph.weights))).toBe(printGraph(graph));

    const dir = join(await scratchDir('hostile'), 'out');
    dirs.push(join(dir, '..'));
    delete global[INJECTED];
    const texts: string[] = [];
    // Annotated (names in `// %id` comments) and plain; the check imports the module.
    for (const annotate of [true, false]) {
      const compiled = compileGraph(graph, { annotate });
      const report = await writeCompiled(compiled, graph, dir, { force: true });
      expect(report.check?.ok, JSON.stringify(report.check)).toBe(true);
      expect(global[INJECTED]).toBeUndefined();
      texts.push(await readFile(join(dir, 'model.js'), 'utf8'), await readFile(join(dir, 'model.d.ts'), 'utf8'));
    }
    const { load } = (await importEmittedModule(dir)) as unknown as {
      load(): Promise<{
        info: { name: string; inputs: { name: string }[]; outputs: { name: string }[] };
        predict(x: unknown): Promise<Record<string, Float32Array>>;
        dispose(): void;
      }>;
    };
    const model = await load();
    expect(model.info.name).toBe(graph.name);
    expect(model.info.inputs.map((i) => i.name)).toEqual([x1, 'constructor', x2]);
    const y = await model.predict({ [x1]: new Float32Array(32), constructor: new Float32Array(3).fill(1), [x2]: new Float32Array(3) });
    expect(Object.keys(y)).toEqual([out1, out2]);
    expect(y[out2].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    model.dispose();
    expect(global[INJECTED]).toBeUndefined();

    for (const text of texts) expect(text).not.toMatch(/[\u2028\u2029\r\u0085]|<\/script|\*\/ globalThis/);
    expect(await declarationProblems(dir, { inputs: [x1, 'constructor', x2], outputs: [out1, out2] })).toEqual([]);
  });

  it('a graph listing an output twice is invalid (model.d.ts would declare it twice)', () => {
    const text = 'graph g(%x: f32[1,4]) -> (%y, %y) {\n  %y = relu %x : f32[1,4]\n}\n';
    expect(() => parseGraph(text, {})).toThrow(/output %y is listed twice/);
  });
});
