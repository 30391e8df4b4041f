// Emitted code without running it: baselines of model.js and model.d.ts for small graphs
// (committed; regenerate with test/golden/codegen/update.ts, never from a test run), the
// module's imports, and its size for the paper's networks.
import { readFile } from 'node:fs/promises';
import { createTwoFilesPatch } from 'diff';
import * as tfjsCore from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import densenet40 from '../../examples/densenet40.ts';
import mobilenet from '../../examples/mobilenet.ts';
import resnet164 from '../../examples/resnet164.ts';
import vgg19 from '../../examples/vgg19.ts';
import { compileGraph } from '../../src/compiler/compile.ts';
import { HELPERS, helperClosure, type HelperName } from '../../src/codegen/helpers.ts';
import { ANNOTATION_BUDGET, emitModule } from '../../src/codegen/module_source.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { lowerGraph } from '../../src/passes/lower/index.ts';
import { GOLDEN_GRAPHS } from './golden_graphs.ts';
import { SMALL_NETS } from './nets.ts';

const golden = (file: string) => readFile(new URL(`../golden/codegen/${file}`, import.meta.url), 'utf8');

function expectSameText(actual: string, expected: string, file: string): void {
  if (actual === expected) return;
  const patch = createTwoFilesPatch(`${file} (baseline)`, `${file} (emitted now)`, expected, actual, undefined, undefined, { context: 2 });
  expect.fail(
    `emitted code differs from the baseline test/golden/codegen/${file}; if intended, run test/golden/codegen/update.ts and review:\n${patch}`,
  );
}

/** The names model.js imports, by package. */
function importsOf(js: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of js.matchAll(/^import \{ ([^}]+) \} from '([^']+)';$/gm)) out[m[2]] = m[1].split(', ');
  return out;
}

describe.each(Object.keys(GOLDEN_GRAPHS))('%s', (name) => {
  const { module } = compileGraph(GOLDEN_GRAPHS[name]());
  // The baseline holds the model-specific part; the runtime around it is a checked source file.
  it('model.js matches its baseline', async () =>
    expectSameText(`${module.modelSource}\n`, await golden(`${name}.model.js`), `${name}.model.js`));
  it('model.d.ts matches its baseline', async () => expectSameText(module.dts, await golden(`${name}.model.d.ts`), `${name}.model.d.ts`));
});

describe('imports', () => {
  it('a module imports only tfjs-core and the wasm backend, and of tfjs-core only what it calls', () => {
    const { module } = compileGraph(SMALL_NETS.vgg());
    const imports = importsOf(module.js);
    expect(Object.keys(imports).sort()).toEqual(['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core']);
    // The runtime's (model_runtime.js) and, of the engine path's helpers, those this model calls.
    expect(imports['@tensorflow/tfjs-core']).toEqual([
      'Tensor',
      'engine',
      'env',
      'fused',
      'getBackend',
      'getKernel',
      'registerKernel',
      'setBackend',
      'tensor',
      'tensor1d',
      'tidy',
      'transpose',
    ]);
    // The kernels it calls are defined, and nothing else.
    const defined = [...module.js.matchAll(/^const (\w+) = \(/gm)]
      .map((m) => m[1])
      .filter((name) => name in HELPERS)
      .sort();
    expect(defined).toEqual(['avgPool', 'conv', 'dense', 'flatten', 'free', 'maxPool']);
    // Nothing else is loaded, statically or dynamically, except Node built-ins (behind IS_NODE),
    // by a specifier bundlers do not follow.
    const dynamic = [...module.js.matchAll(/import\(([^)]*)\)/g)].map((m) => m[1]);
    expect(dynamic).toEqual(['/* @vite-ignore */ /* webpackIgnore: true */ `node:${name}`']);
  });

  it('every helper imports real tfjs-core exports and depends only on helpers', () => {
    const names = Object.keys(HELPERS) as HelperName[];
    for (const name of names) {
      for (const i of HELPERS[name].imports) expect(tfjsCore, `${name} imports ${i}`).toHaveProperty(i);
      for (const dependency of (HELPERS[name] as { uses?: readonly string[] }).uses ?? []) expect(names).toContain(dependency);
    }
    expect(helperClosure(['groupConv', 'relu'])).toEqual(['relu', 'relu6', 'sigmoid', 'act', 'add', 'concat', 'groupConv']);
  });
});

describe('size of model.js (weights apart)', () => {
  const bytes = (js: string) => new TextEncoder().encode(js).length;
  it.each([
    ['vgg19', vgg19],
    ['resnet164', resnet164],
    ['densenet40', densenet40],
    ['mobilenet', mobilenet],
  ] as const)('%s stays under 110 KB, as is and pruned at 0.7 (about 55 KB of it the runtime)', (_name, make) => {
    const graph = withSparsityLikeWeights(make());
    // The module carries the plan (a line per step), the engine path's forward pass (the fallback
    // for a backend the plan was not made for) and the runtime with copy_runs.wasm's bytes.
    expect(bytes(emitModule(lowerGraph(graph)).js)).toBeLessThan(110 * 1024);
    // Pruning adds channel selections (gathers), each with its list of kept channels.
    expect(bytes(compileGraph(graph, { slim: { ratio: 0.7 } }).module.js)).toBeLessThan(110 * 1024);
  });

  it('keeps the comments naming IR values while the module is small, and drops them past the budget', () => {
    const graph = SMALL_NETS.vgg();
    const lowered = lowerGraph(graph);
    expect(emitModule(lowered).js).toContain('// %conv1');
    const bare = emitModule(lowered, { annotate: false }).js;
    expect(bare).not.toContain('// %conv1');
    expect(bare).toContain('vN in forward() is the value of node N of the final IR');
    const large = emitModule(lowerGraph(resnet164()));
    expect(bytes(emitModule(lowerGraph(resnet164()), { annotate: true }).modelSource)).toBeGreaterThan(ANNOTATION_BUDGET);
    expect(large.js).not.toContain('// %');
  });
});
