// `npm run build`: compiles src/ to dist/ (JavaScript, .d.ts and source maps) and copies the
// files the compiler reads at run time. dist/ is removed first, so no output of a deleted source
// file survives into a package.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = ['frontends/onnx/onnx.proto'];

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const asset of ASSETS) copyFileSync(join(root, 'src', asset), join(root, 'dist', asset));
