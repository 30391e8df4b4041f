// Loading a model for the CLI from a file: a TypeScript/JavaScript module (the DSL) or the
// textual IR with its weights file. The result is always verified.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { SlimcError, UnsupportedError } from '../ir/errors.ts';
import { parseGraph } from '../ir/text/parser.ts';
import type { Graph } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { replaceWeights } from '../ir/replace_weights.ts';
import { readWeightsFile } from '../ir/weights_file_io.ts';
import { describeFsError } from '../util/fs_errors.ts';
import { importOnnxFile } from '../frontends/onnx/index.ts';
import { importUserModule } from '../util/import_user_module.ts';

export interface LoadModelOptions {
  /**
   * A weights file. For a .slim model it replaces the default `<model>.weights.bin`; for a module
   * it replaces the module's weights by name (each shape must match; every weight given).
   */
  readonly weights?: string;
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const SUPPORTED =
  '.ts, .mts, .js, .mjs (a module whose default export is a Graph or a function returning one), .slim (textual IR, with its weights file) and .onnx (NCHW, as PyTorch exports it)';

export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<Graph> {
  await expectFile(path, 'model file');
  const extension = extname(path).toLowerCase();
  let graph: Graph;
  if (MODULE_EXTENSIONS.includes(extension)) {
    graph = await loadModule(path);
    if (opts.weights !== undefined)
      graph = { ...graph, weights: replaceWeights(graph.weights, await readWeightsFile(opts.weights), opts.weights) };
  } else if (extension === '.slim') {
    graph = await loadTextual(path, opts.weights ?? textualWeightsPath(path));
  } else if (extension === '.onnx') {
    graph = loadOnnx(path);
    if (opts.weights !== undefined)
      graph = { ...graph, weights: replaceWeights(graph.weights, await readWeightsFile(opts.weights), opts.weights) };
  } else {
    throw new UnsupportedError(`cannot load a '${extension || '(no extension)'}' model; supported: ${SUPPORTED}`, path);
  }
  try {
    return verify(graph);
  } catch (e) {
    if (e instanceof SlimcError) throw new SlimcError(e.message, path);
    throw e;
  }
}

/** `model.slim` -> `model.weights.bin`, in the same directory. */
export const textualWeightsPath = (slimPath: string) => slimPath.replace(/\.slim$/i, '') + '.weights.bin';

async function loadTextual(path: string, weightsPath: string): Promise<Graph> {
  await expectFile(
    weightsPath,
    'weights file',
    `a .slim model reads its weights from ${textualWeightsPath(path)} beside it, or from --weights FILE`,
  );
  const weights = await readWeightsFile(weightsPath);
  return parseGraph(await readFile(path, 'utf8'), weights, path);
}

/** An ONNX model; the importer's warnings (such as BNs folded away at export) go to stderr. */
function loadOnnx(path: string): Graph {
  const { graph, warnings } = importOnnxFile(path);
  for (const warning of warnings) process.stderr.write(`slimc: warning: ${warning}\n`);
  return graph;
}

async function loadModule(path: string): Promise<Graph> {
  let exported: unknown;
  try {
    const module = await importUserModule(path);
    if (!('default' in module))
      throw new SlimcError('the module has no default export (export default a Graph or a function returning one)', path);
    exported = typeof module.default === 'function' ? (module.default as () => unknown)() : module.default;
  } catch (e) {
    throw asUserError(e, path);
  }
  if (!isGraph(exported)) {
    const what = exported === null ? 'null' : Array.isArray(exported) ? 'an array' : typeof exported;
    throw new SlimcError(`the default export is not a Graph or a function returning one (it gives ${what})`, path);
  }
  return exported;
}

/**
 * Errors raised while importing or running a user's model module are theirs to fix: reported as
 * a SlimcError naming the file, with the original stack kept for --verbose.
 */
function asUserError(e: unknown, path: string): SlimcError {
  if (e instanceof SlimcError) return e;
  const error = new SlimcError(`loading the model failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, path);
  if (e instanceof Error) {
    error.cause = e;
    error.stack = `${error.stack}\nCaused by: ${e.stack}`;
  }
  return error;
}

function isGraph(v: unknown): v is Graph {
  if (typeof v !== 'object' || v === null) return false;
  const g = v as Record<string, unknown>;
  return (
    typeof g.name === 'string' && Array.isArray(g.nodes) && Array.isArray(g.outputs) && typeof g.weights === 'object' && g.weights !== null
  );
}

async function expectFile(path: string, what: string, hint?: string): Promise<void> {
  try {
    if ((await stat(path)).isFile()) return;
    throw new SlimcError(`the ${what} is not a file${hint ? ` (${hint})` : ''}`, path);
  } catch (e) {
    if (e instanceof SlimcError) throw e;
    throw new SlimcError(`cannot read the ${what}: ${describeFsError(e)}${hint ? ` (${hint})` : ''}`, path);
  }
}
