// `npm run build`: compiles src/ to dist/ (JavaScript, .d.ts and source maps) and copies every
// other file of src/ (what the compiler reads at run time: onnx.proto, the emitted modules'
// runtime source), and the TypeScript sources it also reads as text, to the same place. dist/ is removed first, so no output of a deleted source
// file survives into a package.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** TypeScript sources the compiler reads as text at run time: model.d.ts inlines model_api.ts. */
const READ_AS_TEXT = new Set([join('codegen', 'runtime', 'model_api.ts')]);

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const from = join(entry.parentPath, entry.name);
  const relative = from.slice(join(root, 'src').length + 1);
  if (entry.name.endsWith('.ts') && !READ_AS_TEXT.has(relative)) continue;
  const to = join(root, 'dist', relative);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}
