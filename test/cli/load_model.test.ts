// loadModel: DSL modules and textual IR with its weights file, always verified; every failure a
// SlimcError naming the file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import resnet56 from '../../examples/resnet56.ts';
import { loadModel } from '../../src/cli/load_model.ts';
import { SlimcError, UnsupportedError } from '../../src/ir/errors.ts';
import { printGraph } from '../../src/ir/text/printer.ts';
import type { Weight } from '../../src/ir/types.ts';
import { encodeWeights } from '../../src/ir/weights_file.ts';
import { writeWeightsFile } from '../../src/ir/weights_file_io.ts';
import { allOpsGraph, expectGraphsEqual } from '../helpers/graphs.ts';

let dir: string;
const at = (name: string) => join(dir, name);

/** A graph as a plain object literal: a module that needs no import to define a model. */
const LITERAL = `{
  name: 'literal',
  nodes: [
    { op: 'input', id: 'x', type: { dtype: 'f32', shape: [1, 4] } },
    { op: 'relu', id: 'y', type: { dtype: 'f32', shape: [1, 4] }, input: 'x' },
  ],
  outputs: ['y'],
  weights: {},
}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimc-load-'));
  const graph = allOpsGraph();
  await writeFile(at('model.slim'), printGraph(graph));
  await writeWeightsFile(at('model.weights.bin'), graph.weights);
  await writeWeightsFile(at('other.bin'), graph.weights);
  await writeFile(at('lonely.slim'), printGraph(graph));
  await writeFile(at('truncated.slim'), printGraph(graph));
  await writeFile(at('truncated.weights.bin'), encodeWeights(graph.weights).subarray(0, 3000));
  await writeFile(at('object.mjs'), `export default ${LITERAL};\n`);
  await writeFile(at('function.mjs'), `export default () => (${LITERAL});\n`);
  await writeFile(at('named.mjs'), `export const model = ${LITERAL};\n`);
  await writeFile(at('number.mjs'), 'export default 42;\n');
  await writeFile(at('throws.mjs'), "export default () => { throw new RangeError('no such width'); };\n");
  await writeFile(at('dangling.mjs'), `const g = ${LITERAL};\nexport default { ...g, outputs: ['x'] };\n`);
  await writeFile(at('model.h5'), 'a Keras file');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loadError(path: string, opts = {}): Promise<SlimcError> {
  try {
    await loadModel(path, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(SlimcError);
    return e as SlimcError;
  }
  throw new Error(`expected ${path} to fail to load`);
}

describe('modules', () => {
  it('a .ts module whose default export is a function returning a graph, by a path relative to the cwd', async () => {
    expectGraphsEqual(await loadModel('examples/resnet56.ts'), resnet56());
  });

  it('an absolute path, a default export that is a graph or a function returning one', async () => {
    expect((await loadModel(at('object.mjs'))).outputs).toEqual(['y']);
    expect((await loadModel(relative(process.cwd(), at('function.mjs')))).name).toBe('literal');
  });

  it('replaces the weights by name from a weights file, shape-checked', async () => {
    const graph = resnet56();
    const scaled = Object.fromEntries(
      Object.entries(graph.weights).map(([n, w]): [string, Weight] => [n, { shape: w.shape, data: w.data.map((v) => 2 * v + 1) }]),
    );
    await writeWeightsFile(at('resnet56.weights.bin'), scaled);
    expectGraphsEqual(await loadModel('examples/resnet56.ts', { weights: at('resnet56.weights.bin') }), { ...graph, weights: scaled });

    const { 'fc.b': _, ...lacking } = scaled;
    await writeWeightsFile(at('lacking.weights.bin'), lacking);
    expect((await loadError('examples/resnet56.ts', { weights: at('lacking.weights.bin') })).message).toBe(
      `${at('lacking.weights.bin')}: lacks 1 tensor(s) of the model: @fc.b`,
    );
    await writeWeightsFile(at('wrong.weights.bin'), { ...scaled, 'fc.b': { shape: [11], data: new Float32Array(11) } });
    expect((await loadError('examples/resnet56.ts', { weights: at('wrong.weights.bin') })).message).toBe(
      `${at('wrong.weights.bin')}: tensor @fc.b has shape [11], the model needs [10]`,
    );
  });

  it('errors name the module', async () => {
    expect((await loadError(at('named.mjs'))).message).toBe(
      `${at('named.mjs')}: the module has no default export (export default a Graph or a function returning one)`,
    );
    expect((await loadError(at('number.mjs'))).message).toBe(
      `${at('number.mjs')}: the default export is not a Graph or a function returning one (it gives number)`,
    );
    const thrown = await loadError(at('throws.mjs'));
    expect(thrown.message).toBe(`${at('throws.mjs')}: loading the model failed: RangeError: no such width`);
    expect(thrown.stack).toContain('Caused by: RangeError: no such width');
  });

  it('verifies the graph it loads', async () => {
    const e = await loadError(at('dangling.mjs'));
    expect(e.message).toContain(`${at('dangling.mjs')}: graph literal is invalid`);
    expect(e.message).toContain('%y: relu: value is never used (dangling)');
  });
});

describe('textual IR', () => {
  it('reads model.slim with model.weights.bin beside it', async () => {
    expectGraphsEqual(await loadModel(at('model.slim')), allOpsGraph());
  });

  it('reads the weights from another file when given', async () => {
    expectGraphsEqual(await loadModel(at('lonely.slim'), { weights: at('other.bin') }), allOpsGraph());
  });

  it('a missing weights file: names the path it looked for and the option', async () => {
    expect((await loadError(at('lonely.slim'))).message).toBe(
      `${at('lonely.weights.bin')}: cannot read the weights file: file not found (a .slim model reads its weights from ${at('lonely.weights.bin')} beside it, or from --weights FILE)`,
    );
  });

  it('a truncated weights file: names the file', async () => {
    expect((await loadError(at('truncated.slim'))).message).toMatch(new RegExp(`^${at('truncated.weights.bin')}: truncated: tensor @`));
  });
});

describe('other files', () => {
  it('a missing file', async () => {
    expect((await loadError(at('nope.ts'))).message).toBe(`${at('nope.ts')}: cannot read the model file: file not found`);
  });

  it('an extension slimc cannot load yet: lists what it can', async () => {
    const e = await loadError(at('model.h5'));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e.message).toMatch(
      new RegExp(`^${at('model.h5')}: cannot load a '\\.h5' model; supported: \\.ts, \\.mts, \\.js, \\.mjs .*\\.slim`),
    );
  });
});
