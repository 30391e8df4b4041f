// The equivalence check `slimc compile` runs after writing a module: the emitted model.js and
// the reference interpreter on the reference graph (the masked original when pruning) get the
// same seeded random inputs; the largest absolute difference of their outputs must stay within
// 1e-4 * max(1, max |reference|).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { graphInputs } from '../ir/node.ts';
import type { Graph, ValueId } from '../ir/types.ts';
import { interpret } from '../interp/index.ts';
import { permuteAxes } from '../util/permute_axes.ts';
import { Rng } from '../util/random.ts';
import { MODULE_FILE, WEIGHTS_FILE, type BorderValue } from './module_source.ts';
import { resolveTfjsFromSlimc } from './node_resolve.ts';

export interface CheckResult {
  readonly maxAbsDiff: number;
  /** The largest |output| of the reference, which scales the tolerance. */
  readonly maxAbsReference: number;
  readonly tolerance: number;
  readonly ok: boolean;
  readonly batch: number;
  readonly seed: number;
}

export interface CheckOptions {
  readonly batch?: number;
  readonly seed?: number;
}

/** The module's API as the check uses it (see model.d.ts). */
interface EmittedModel {
  readonly info: { readonly inputs: readonly BorderValue[]; readonly outputs: readonly BorderValue[] };
  predict(x: Float32Array | Readonly<Record<string, Float32Array>>): Promise<Float32Array | Readonly<Record<string, Float32Array>>>;
  dispose(): void;
}

interface EmittedModuleExports {
  load(opts?: { weights?: string; threads?: number }): Promise<EmittedModel>;
}

let imports = 0;

/** Imports an emitted model.js (a fresh instance each time, so recompiling a directory is seen). */
export async function importEmittedModule(dir: string): Promise<EmittedModuleExports> {
  resolveTfjsFromSlimc();
  const url = `${pathToFileURL(join(dir, MODULE_FILE)).href}?load=${++imports}`;
  return (await import(url)) as EmittedModuleExports;
}

export const toleranceFor = (maxAbsReference: number) => 1e-4 * Math.max(1, maxAbsReference);

/** NHWC sample data [N, H, W, C] as the source layout NCHW [N, C, H, W] (and back with `inverse`). */
export function transposeBorder(data: Float32Array, nhwcShape: readonly number[], inverse = false): Float32Array {
  const [n, h, w, c] = nhwcShape;
  return inverse ? permuteAxes(data, [n, c, h, w], [0, 2, 3, 1]) : permuteAxes(data, nhwcShape, [0, 3, 1, 2]);
}

/** Runs the module in `dir` and the interpreter on `reference`, on the same random inputs. */
export async function checkCompiledModule(dir: string, reference: Graph, opts: CheckOptions = {}): Promise<CheckResult> {
  const batch = opts.batch ?? 2;
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const nchw = reference.layout?.input === 'NCHW';
  const batched = (shape: readonly number[]) => [batch, ...shape.slice(1)];
  // The interpreter gets NHWC data (the reference without its border marker), the module the
  // same data in the source layout.
  const nhwcInputs: Record<ValueId, Float32Array> = {};
  const moduleInputs: Record<ValueId, Float32Array> = {};
  for (const input of graphInputs(reference)) {
    const shape = batched(input.type.shape);
    const data = rng.fill(
      shape.reduce((a, b) => a * b, 1),
      () => rng.normal(),
    );
    nhwcInputs[input.id] = data;
    moduleInputs[input.id] = nchw && shape.length === 4 ? transposeBorder(data, shape) : data;
  }
  const { layout: _border, ...nhwcReference } = reference;
  const expected = await interpret(nhwcReference, nhwcInputs);

  const model = await (await importEmittedModule(dir)).load({ weights: join(dir, WEIGHTS_FILE) });
  let produced: Float32Array[];
  try {
    const single = model.info.inputs.length === 1 ? moduleInputs[model.info.inputs[0].name] : moduleInputs;
    const result = await model.predict(single);
    produced = result instanceof Float32Array ? [result] : model.info.outputs.map((o) => result[o.name]);
  } finally {
    model.dispose();
  }
  const types = new Map(reference.nodes.map((n) => [n.id, n.type.shape]));
  let maxAbsDiff = 0;
  let maxAbsReference = 0;
  expected.forEach((ref, i) => {
    const shape = batched(types.get(reference.outputs[i]) as readonly number[]);
    const got = nchw && shape.length === 4 ? transposeBorder(produced[i], shape, true) : produced[i];
    if (got.length !== ref.length) {
      maxAbsDiff = Number.POSITIVE_INFINITY;
      return;
    }
    for (let k = 0; k < ref.length; k++) {
      maxAbsReference = Math.max(maxAbsReference, Math.abs(ref[k]));
      const d = Math.abs(ref[k] - got[k]);
      maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(maxAbsDiff, d);
    }
  });
  const tolerance = toleranceFor(maxAbsReference);
  return { maxAbsDiff, maxAbsReference, tolerance, ok: maxAbsDiff <= tolerance, batch, seed };
}
