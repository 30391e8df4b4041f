// An ONNX model through slimc, the way a PyTorch user takes it (see README.md beside this file):
//
//   slimc prune   model.onnx --ratio 0.5 -o out/pruned.slim      the compact IR and its report
//   slimc compile model.onnx --prune 0.5 --out out/compiled      an ES module for TensorFlow.js wasm
//   slimc export  model.onnx --prune 0.5 -o out/pruned.onnx      the pruned network back as ONNX
//
// then runs the compiled module and the exported ONNX (in onnxruntime-web) on the model's inputs,
// both in NCHW as PyTorch takes them. When `<model>.json` lies beside the model (the fixtures'
// PyTorch reference, written by scripts/make_onnx_fixtures.py), both are checked against the
// outputs PyTorch computed for the masked network.
//
//   npx tsx examples/onnx/prune_and_compile.ts [model.onnx] [--ratio 0.5] [--out out/onnx-example]
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { main } from '../../src/cli/main.ts';
import { importEmittedModule } from '../../src/codegen/check.ts';

export const DEFAULT_MODEL = fileURLToPath(new URL('../../test/fixtures/onnx/mobilenet.onnx', import.meta.url));

/** PyTorch's numbers for a fixture: inputs in NCHW order, outputs of the masked network at `ratio`. */
interface Reference {
  readonly input_shape: readonly number[];
  readonly ratio: number;
  readonly inputs: readonly (readonly number[])[];
  readonly masked: readonly (readonly number[])[] | null;
}

export interface ExampleResult {
  readonly files: { readonly pruned: string; readonly compiled: string; readonly exported: string };
  /** Largest |slimc - PyTorch| over the largest |PyTorch| output, when a reference was found. */
  readonly relativeError: { readonly module: number; readonly onnxRuntime: number } | null;
}

async function slimc(argv: string[], log: (line: string) => void): Promise<void> {
  log(`$ slimc ${argv.join(' ')}`);
  const code = await main(argv);
  if (code !== 0) throw new Error(`slimc ${argv[0]} failed with exit code ${code}`);
}

function relativeError(actual: ArrayLike<number>, reference: readonly number[]): number {
  let diff = 0;
  let scale = 0;
  reference.forEach((r, i) => {
    diff = Math.max(diff, Math.abs(actual[i] - r));
    scale = Math.max(scale, Math.abs(r));
  });
  return diff / scale;
}

export async function runExample(
  model: string,
  ratio: number,
  out: string,
  log: (line: string) => void = console.log,
): Promise<ExampleResult> {
  await mkdir(out, { recursive: true });
  const files = { pruned: join(out, 'pruned.slim'), compiled: join(out, 'compiled'), exported: join(out, 'pruned.onnx') };
  await slimc(['prune', model, '--ratio', String(ratio), '-o', files.pruned], log);
  await slimc(['compile', model, '--prune', String(ratio), '--out', files.compiled, '--force'], log);
  await slimc(['export', model, '--prune', String(ratio), '-o', files.exported], log);

  const referencePath = model.replace(/\.onnx$/i, '.json');
  if (!existsSync(referencePath)) return { files, relativeError: null };
  const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as Reference;
  if (reference.ratio !== ratio || !reference.masked) return { files, relativeError: null };
  const input = Float32Array.from(reference.inputs[0]);
  const expected = reference.masked[0];

  // The compiled module takes and returns tensors in the source layout: NCHW for an ONNX model.
  const compiled = await (await importEmittedModule(files.compiled)).load({ weights: join(files.compiled, 'model.weights.bin') });
  const fromModule = (await compiled.predict(input)) as Float32Array;
  compiled.dispose();

  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(await readFile(files.exported), { executionProviders: ['wasm'] });
  const results = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [...reference.input_shape]) });
  const fromOnnx = results[session.outputNames[0]].data as Float32Array;
  await session.release();

  const errors = { module: relativeError(fromModule, expected), onnxRuntime: relativeError(fromOnnx, expected) };
  log(`compiled module vs PyTorch (masked at ${ratio}): max relative difference ${errors.module.toExponential(2)}`);
  log(`exported ONNX in onnxruntime-web vs PyTorch:    max relative difference ${errors.onnxRuntime.toExponential(2)}`);
  return { files, relativeError: errors };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    options: { ratio: { type: 'string', default: '0.5' }, out: { type: 'string', default: 'out/onnx-example' } },
    allowPositionals: true,
  });
  const result = await runExample(
    positionals[0] ?? relative(process.cwd(), DEFAULT_MODEL),
    Number(values.ratio),
    values.out ?? 'out/onnx-example',
  );
  if (result.relativeError && Math.max(result.relativeError.module, result.relativeError.onnxRuntime) > 1e-4) process.exitCode = 1;
}
