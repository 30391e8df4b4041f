// Runs every command of README.md and docs/*.md, as a reader would, and fails if one fails.
//
// - Commands are the lines of ```sh blocks (a trailing `# comment` is dropped; `a && b` runs
//   both). They run in order, file by file, in a scratch directory inside the checkout
//   (.docs-check/, removed first), where `examples` links to the real examples and `slimc` and
//   `slimc/dsl` resolve to this checkout; outputs such as out/ land there.
// - A fenced block whose first line is `// file: NAME` is written to NAME there first, so the
//   docs' own model files and scripts are what the commands run.
// - Files a reader brings (model.onnx) are stood in by the ONNX test fixture of a VGG-style net.
// - `npx slimc` runs bin/slimc.js of this checkout. Training commands (train, finetune, slim)
//   get `--max-steps 2`: the command line is checked end to end, not the hours of training.
// - Not run: npm install / npm ci / npm i / npm test (CI runs the install and the tests itself,
//   and test/package/install.test.ts installs the packed package), the example page's server
//   (it serves until stopped; test/codegen/browser.test.ts serves the same page), and the
//   PyTorch commands that make the ONNX fixtures (run by hand; CI never runs Python).
//
//   node --import tsx scripts/docs_check.ts [FILE.md ...]
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRATCH = join(ROOT, '.docs-check');
const BIN = join(ROOT, 'bin', 'slimc.js');
const TRAINING = new Set(['train', 'finetune', 'slim']);
const STAND_INS: Readonly<Record<string, string>> = { 'model.onnx': 'test/fixtures/onnx/vgg.onnx' };
const NOT_RUN: readonly [RegExp, string][] = [
  [/^npm (install|ci|i|test)\b/, 'installs and tests run in CI itself'],
  [/examples\/web\/serve\.ts/, 'a server that runs until stopped; the browser test serves the same page'],
  [/^(apt-get|\/usr\/bin\/python3|python3?) /, 'the ONNX fixtures are made by hand with PyTorch; tests and CI never run Python'],
];

export interface DocCommand {
  readonly file: string;
  readonly line: number;
  readonly command: string;
}

interface DocStep {
  readonly kind: 'command' | 'file';
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly name?: string;
}

/** The ```sh commands and `// file:` blocks of a markdown file, in order. */
export function docSteps(file: string): DocStep[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const steps: DocStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    const named = /^\/\/ file: (\S+)$/.exec(body[0] ?? '');
    if (named) {
      steps.push({ kind: 'file', file, line: start + 1, name: named[1], text: `${body.join('\n')}\n` });
    } else if (open[1] === 'sh') {
      body.forEach((text, k) => {
        const command = text.replace(/(^|\s)#.*$/, '').trim();
        if (command === '') return;
        for (const part of command.split(/\s+&&\s+/)) steps.push({ kind: 'command', file, line: start + 2 + k, text: part });
      });
    }
  }
  return steps;
}

export const documentFiles = (): string[] => [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

function prepareScratch(): void {
  rmSync(SCRATCH, { recursive: true, force: true });
  mkdirSync(SCRATCH);
  symlinkSync(join(ROOT, 'examples'), join(SCRATCH, 'examples'));
  for (const [name, source] of Object.entries(STAND_INS)) copyFileSync(join(ROOT, source), join(SCRATCH, name));
}

/** The process a command line runs: `npx slimc ...` as bin/slimc.js, the rest through sh. */
function invocation(command: string): [string, string[]] {
  const slimc = /^npx slimc(\s|$)/.exec(command);
  if (!slimc) return ['sh', ['-c', command]];
  const args = command.slice(slimc[0].length).trim().split(/\s+/).filter(Boolean);
  if (TRAINING.has(args[0]) && !args.includes('--max-steps')) args.push('--max-steps', '2');
  return [process.execPath, [BIN, ...args]];
}

export interface CheckResult {
  readonly ran: readonly DocCommand[];
  readonly skipped: readonly (DocCommand & { readonly reason: string })[];
  readonly failed: readonly (DocCommand & { readonly output: string })[];
}

/** Runs a process to its end (never blocking the event loop); the exit code and the output. */
function runProcess(cmd: string, args: readonly string[]): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { cwd: SCRATCH, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : (error.signal ?? String(error.code));
      resolve({ code, output: `${stderr}${stdout}` });
    });
  });
}

export async function checkDocs(files: readonly string[] = documentFiles(), log: (line: string) => void = () => {}): Promise<CheckResult> {
  prepareScratch();
  const ran: DocCommand[] = [];
  const skipped: (DocCommand & { reason: string })[] = [];
  const failed: (DocCommand & { output: string })[] = [];
  try {
    for (const file of files) {
      for (const step of docSteps(file)) {
        if (step.kind === 'file') {
          const path = join(SCRATCH, step.name as string);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, step.text);
          continue;
        }
        const where = { file, line: step.line, command: step.text };
        const reason = NOT_RUN.find(([pattern]) => pattern.test(step.text))?.[1];
        if (reason) {
          skipped.push({ ...where, reason });
          log(`skip ${file}:${step.line}: ${step.text} (${reason})`);
          continue;
        }
        const [cmd, args] = invocation(step.text);
        log(`run  ${file}:${step.line}: ${step.text}`);
        const r = await runProcess(cmd, args);
        ran.push(where);
        if (r.code !== 0) failed.push({ ...where, output: `exit ${r.code}\n${r.output}`.slice(-4000) });
      }
    }
  } finally {
    rmSync(SCRATCH, { recursive: true, force: true });
  }
  return { ran, skipped, failed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  const result = await checkDocs(files.length > 0 ? files : documentFiles(), (line) => process.stdout.write(`${line}\n`));
  for (const f of result.failed) process.stderr.write(`\nFAILED ${f.file}:${f.line}: ${f.command}\n${f.output}\n`);
  process.stdout.write(`${result.ran.length} commands run, ${result.skipped.length} not run, ${result.failed.length} failed\n`);
  process.exitCode = result.failed.length > 0 ? 1 : 0;
}
