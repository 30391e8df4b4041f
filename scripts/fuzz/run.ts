// The fuzzer: `npm run fuzz -- --cases N [--seed S] [--start K] [--jobs J] [--timeout SECONDS]`.
// Makes cases K..K+N-1 (cases.ts), runs each through `slimc inspect` and `slimc compile` in worker
// processes with a time limit, and tallies exit codes by family. It fails (exit 1) on any internal
// error (exit 2), crash, hang, injected code that ran (the marker file appeared) or model.d.ts
// that does not type-check, and keeps those cases' files in --keep DIR to replay.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { FAMILIES, loadCorpus, makeCase, type Corpus, type Family, type FuzzCase } from './cases.ts';
import type { WorkerJob, WorkerResult } from './worker.ts';

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  readonly start: number;
  readonly jobs: number;
  /** Per case (inspect and compile together). */
  readonly timeoutSeconds: number;
  /** Where failing cases are copied; null: nowhere. */
  readonly keep: string | null;
  /** Cases a worker runs before it is replaced (module caches grow with every compiled module). */
  readonly casesPerWorker: number;
  readonly log?: (line: string) => void;
}

type Outcome = 'exit 0' | 'exit 1' | 'exit 2' | 'crash' | 'hang' | 'injected' | 'invalid d.ts';
export const FAILURES: readonly Outcome[] = ['exit 2', 'crash', 'hang', 'injected', 'invalid d.ts'];

export interface Tally {
  cases: number;
  inspect: Record<string, number>;
  compile: Record<string, number>;
  failures: number;
}

export interface Failure {
  readonly index: number;
  readonly family: Family;
  readonly outcome: Outcome;
  readonly detail: string;
}

export interface FuzzReport {
  readonly tally: Record<Family, Tally>;
  readonly failures: readonly Failure[];
  readonly seconds: number;
}

const WORKER = new URL('./worker.ts', import.meta.url).pathname;

class Worker {
  private child: ChildProcess | null = null;
  private ran = 0;

  constructor(private readonly casesPerWorker: number) {}

  private async start(): Promise<ChildProcess> {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the fuzz worker exited (${code}) before it was ready`)));
    });
    child.removeAllListeners('exit');
    this.child = child;
    this.ran = 0;
    return child;
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  /** Runs a job; a hang or a dead worker is an outcome, not an exception. */
  async run(job: WorkerJob, timeoutMs: number): Promise<{ result: WorkerResult } | { outcome: 'crash' | 'hang'; detail: string }> {
    if (this.child === null || this.ran >= this.casesPerWorker) {
      this.stop();
      await this.start();
    }
    const child = this.child as ChildProcess;
    this.ran++;
    let stderr = '';
    const onData = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000));
    child.stderr?.on('data', onData);
    try {
      return await new Promise((resolve) => {
        const timer = setTimeout(() => {
          this.stop();
          resolve({ outcome: 'hang', detail: `no answer after ${timeoutMs / 1000} s` });
        }, timeoutMs);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          this.child = null;
          resolve({
            outcome: 'crash',
            detail: `the process ended (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-4).join(' | ')}`,
          });
        });
        child.once('message', (m: { ok: true; result: WorkerResult } | { ok: false; error: string }) => {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(
            m.ok ? { result: m.result } : { outcome: 'crash', detail: `main() threw: ${m.error.split('\n').slice(0, 3).join(' | ')}` },
          );
        });
        child.send(job);
      });
    } finally {
      child.stderr?.off('data', onData);
    }
  }
}

const emptyTally = (): Tally => ({ cases: 0, inspect: {}, compile: {}, failures: 0 });
const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/** Runs the fuzzer; the report lists every failure. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const corpus: Corpus = loadCorpus();
  const root = mkdtempSync(join(tmpdir(), 'slimc-fuzz-'));
  const tally = Object.fromEntries(FAMILIES.map((f) => [f, emptyTally()])) as Record<Family, Tally>;
  const failures: Failure[] = [];
  const workers = Array.from({ length: opts.jobs }, () => new Worker(opts.casesPerWorker));
  let next = opts.start;
  const end = opts.start + opts.cases;
  let done = 0;

  const fail = (c: FuzzCase, dir: string, outcome: Outcome, detail: string) => {
    failures.push({ index: c.index, family: c.family, outcome, detail });
    tally[c.family].failures++;
    opts.log?.(`case ${c.index} (${c.family}): ${outcome}: ${detail}`);
    if (opts.keep !== null) {
      mkdirSync(opts.keep, { recursive: true });
      cpSync(dir, join(opts.keep, `case-${c.index}`), { recursive: true });
    }
  };

  const runCase = async (worker: Worker, c: FuzzCase) => {
    const dir = join(root, `case-${c.index}`);
    mkdirSync(dir);
    for (const [name, bytes] of Object.entries(c.files)) writeFileSync(join(dir, name), bytes);
    // One failing case in ten also compiles: the compile command loads models as inspect does.
    const marker = join(dir, 'INJECTED');
    const job: WorkerJob = { dir, model: c.model, compileAlways: c.index % 10 === 0, marker };
    const answer = await worker.run(job, opts.timeoutSeconds * 1000);
    const t = tally[c.family];
    t.cases++;
    if ('outcome' in answer) {
      bump(t.inspect, answer.outcome);
      fail(c, dir, answer.outcome, answer.detail);
    } else {
      const { inspect, compile, declarations } = answer.result;
      bump(t.inspect, `exit ${inspect.code}`);
      if (compile !== null) bump(t.compile, `exit ${compile.code}`);
      for (const [what, r] of [
        ['inspect', inspect],
        ['compile', compile],
      ] as const) {
        if (r !== null && r.code !== 0 && r.code !== 1) fail(c, dir, 'exit 2', `${what}: ${r.stderr.trim()}`);
      }
      if (declarations !== null && declarations.length > 0) fail(c, dir, 'invalid d.ts', declarations.slice(0, 3).join(' | '));
    }
    if (existsSync(marker)) {
      fail(c, dir, 'injected', 'code from a model name ran (the marker file was written)');
      rmSync(marker);
    }
    rmSync(dir, { recursive: true, force: true });
    if (++done % 100 === 0)
      opts.log?.(`${done}/${opts.cases} cases, ${failures.length} failures, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  };

  try {
    await Promise.all(
      workers.map(async (worker) => {
        while (next < end) {
          const index = next++;
          await runCase(worker, makeCase(corpus, opts.seed, index));
        }
      }),
    );
  } finally {
    workers.forEach((w) => w.stop());
    rmSync(root, { recursive: true, force: true });
  }
  return { tally, failures, seconds: (performance.now() - started) / 1000 };
}

/** The tally as a table: one row per family. */
export function tallyText(report: FuzzReport): string {
  const columns = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const rows = FAMILIES.map((f) => {
    const t = report.tally[f];
    return `  ${f.padEnd(15)} ${String(t.cases).padStart(6)} cases  inspect {${columns(t.inspect)}}  compile {${columns(t.compile)}}  failures ${t.failures}`;
  });
  const total = FAMILIES.reduce((n, f) => n + report.tally[f].cases, 0);
  const byOutcome = FAILURES.map((o) => `${report.failures.filter((x) => x.outcome === o).length} ${o}`).join(', ');
  return [`${total} cases in ${report.seconds.toFixed(0)} s by family:`, ...rows, `failures: ${byOutcome}`].join('\n');
}

async function cli(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      start: { type: 'string', default: '0' },
      jobs: { type: 'string', default: '2' },
      timeout: { type: 'string', default: '120' },
      keep: { type: 'string', default: 'tmp/fuzz-failures' },
    },
  });
  const int = (name: keyof typeof values) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${values[name]}`);
    return n;
  };
  const report = await fuzz({
    cases: int('cases'),
    seed: int('seed'),
    start: int('start'),
    jobs: Math.max(1, int('jobs')),
    timeoutSeconds: Math.max(1, int('timeout')),
    keep: values.keep ?? null,
    casesPerWorker: 50,
    log: (line) => process.stderr.write(`fuzz: ${line}\n`),
  });
  process.stdout.write(`${tallyText(report)}\n`);
  return report.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await cli();
