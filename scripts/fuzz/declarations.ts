// Type-checks an emitted model.d.ts the way an app sees it: a strict TypeScript program that
// imports the module, passes every input by its name and reads every output by its name. Any
// diagnostic (a name that broke a declaration, a duplicate identifier) makes the file invalid.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import ts from 'typescript';
import { jsString } from '../../src/codegen/escape.ts';

const TFJS_CORE_TYPES = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'index.d.ts');

export interface DeclaredModel {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Parsed files that never change between cases: TypeScript's libs and tfjs-core's types. */
const sharedFiles = new Map<string, ts.SourceFile>();

/**
 * A compiler host that parses the libraries once per process: parsing lib.dom.d.ts and tfjs-core's
 * declarations again for every case took most of a case's time. Files of `dir` are read fresh.
 */
function cachingHost(options: ts.CompilerOptions, dir: string): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (fileName.startsWith(dir)) return read(fileName, languageVersion, onError, shouldCreate);
    let file = sharedFiles.get(fileName);
    if (file === undefined) {
      file = read(fileName, languageVersion, onError, shouldCreate);
      if (file !== undefined) sharedFiles.set(fileName, file);
    }
    return file;
  };
  return host;
}

/** The diagnostics of model.d.ts and of a consumer of it (empty: valid), as printable lines. */
export async function declarationProblems(dir: string, model: DeclaredModel): Promise<string[]> {
  const consumer = join(dir, 'consumer.ts');
  const input =
    model.inputs.length === 1 ? 'new Float32Array(1)' : `{ ${model.inputs.map((n) => `${jsString(n)}: new Float32Array(1)`).join(', ')} }`;
  const reads =
    model.outputs.length === 1
      ? ['const only: Float32Array = y;']
      : model.outputs.map((n, i) => `const out${i}: Float32Array = y[${jsString(n)}];`);
  await writeFile(
    consumer,
    [
      "import { load, type Model } from './model.js';",
      'export async function run(): Promise<void> {',
      '  const m: Model = await load();',
      `  const y = await m.predict(${input});`,
      ...reads.map((line) => `  ${line}`),
      '  m.dispose();',
      '}',
      '',
    ].join('\n'),
  );
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    // model.d.ts is a declaration file: it is checked only without skipLibCheck.
    skipLibCheck: false,
    skipDefaultLibCheck: true,
    // The declarations import tfjs-core's types, as an app that has tfjs installed resolves them.
    paths: { '@tensorflow/tfjs-core': [TFJS_CORE_TYPES] },
  };
  const program = ts.createProgram([consumer], options, cachingHost(options, dir));
  // Only the two files of `dir` (checking the libraries they import is their authors' business).
  const files = program.getSourceFiles().filter((f) => f.fileName.startsWith(dir));
  if (!files.some((f) => f.fileName.endsWith('model.d.ts'))) return ['consumer.ts: model.d.ts was not found next to model.js'];
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...files.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  return diagnostics.map((d) => {
    const where = d.file
      ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : 'program';
    return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
