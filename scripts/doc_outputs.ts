// The command outputs shown in README.md and docs/*.md are produced by the commands themselves.
// A block written as
//
//   <!-- output of: npx slimc inspect examples/mnist/sparse.slim --no-ir -->
//   ```text
//   ...
//   ```
//
// holds exactly what that command prints on stdout, run from the project root. This script
// rewrites every such block from a fresh run; `--check` only compares and exits 1 when a block
// is stale. test/docs/doc_outputs.test.ts runs the check in CI. Commands must print the same
// thing on every run (no timings).
//
//   node --import tsx scripts/doc_outputs.ts [--check]
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'slimc.js');
const BLOCK = /(<!-- output of: npx slimc ([^\n]*?) -->\n```text\n)([\s\S]*?)(```)/g;

/** README.md and every docs/*.md, relative to the root. */
export const documentFiles = (): string[] => [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

export interface OutputBlock {
  readonly file: string;
  readonly args: readonly string[];
  readonly shown: string;
}

export function outputBlocks(file: string): OutputBlock[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(BLOCK)].map((m) => ({ file, args: m[2].split(/\s+/), shown: m[3] }));
}

/** What `npx slimc ARGS` prints on stdout, run from the root (it must exit 0). */
export function commandOutput(args: readonly string[]): string {
  const out = execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** commandOutput without blocking the event loop (for tests). */
export async function commandOutputAsync(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.endsWith('\n') ? stdout : `${stdout}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const file of documentFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const updated = text.replace(BLOCK, (_all, open: string, args: string, shown: string, close: string) => {
      const fresh = commandOutput(args.split(/\s+/));
      if (fresh !== shown) {
        stale++;
        process.stderr.write(
          `${file}: the output of \`npx slimc ${args}\` ${check ? 'differs from what the command prints' : 'updated'}\n`,
        );
      }
      return `${open}${fresh}${close}`;
    });
    if (!check && updated !== text) writeFileSync(join(ROOT, file), updated);
  }
  if (check && stale > 0) process.exit(1);
}
