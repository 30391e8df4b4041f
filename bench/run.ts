// Latency of compiled modules: for each network (seeded sparsity-like weights) and pruning ratio,
// batch-1 median latency of the compiled pruned module, the compiled unpruned module and the
// reference interpreter on the unpruned graph (and onnxruntime-web on the pruned network),
// with threads off and on; speedup of pruned over unpruned next to the MAC reduction; compile
// time and module size; first, the per-op cost of the plan against the engine path
// (bench/op_overhead.ts). Writes bench/results.json (bench/results.quick.json with --quick) and
// prints markdown tables.
//
//   npm run bench                      # the full run: 4 networks x ratios 0, 0.4, 0.7 x threads 1, 2
//   npm run bench -- --quick           # MobileNet only, ratios 0 and 0.7, one thread
//   npm run bench -- --nets vgg19,mobilenet --ratios 0,0.5 --threads 1 --runs 50 --warmup 5 --no-ort
//   npm run bench -- --threads 1 --schedule alone --out bench/results.alone.json   # each candidate timed alone
//   npm run bench -- --threads 1 --repeat 3   # every network 3 times, minutes apart; each ratio the median of the 3
//   npm run bench -- --help
//
// Each (network, threads) pair runs in its own process (bench/latency_worker.ts), one after the
// other: the wasm backend starts once per process, and a 2-core machine has no core to spare.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { RELAXED_SIMD_FLAGS } from '../scripts/relaxed_simd.ts';
import { COST_CONVENTION } from '../src/ir/cost.ts';
import type { RatioResult, Timing, WorkerResult } from './latency_worker.ts';
import { parseSchedule, type Schedule } from './schedule.ts';
import type { OpOverhead } from './op_overhead.ts';
import { NETWORKS, type NetworkName } from './networks.ts';
import { median } from './timing.ts';

interface Options {
  readonly nets: NetworkName[];
  readonly ratios: string;
  readonly threads: number[];
  readonly runs: number;
  readonly warmup: number;
  readonly ort: boolean;
  readonly schedule: Schedule;
  /** Whole passes over the networks; each row's figures are medians over them. */
  readonly repeat: number;
  /** Node flags for the worker processes. */
  readonly nodeFlags: readonly string[];
  readonly out: string;
}

const USAGE = `usage: npm run bench -- [options]

  --quick              MobileNet only, ratios 0 and 0.7, one thread (writes bench/results.quick.json)
  --nets a,b           networks (${Object.keys(NETWORKS).join(', ')}; default all)
  --ratios r,s         pruning ratios (default 0,0.4,0.7; 0 is the unpruned row)
  --threads n,m        thread counts (default 1,2)
  --runs N             timed runs per candidate (default 30)
  --warmup N           untimed runs first (default 5, 3 with --quick)
  --no-ort             leave onnxruntime-web out
  --schedule S         interleaved (default) or alone
  --repeat N           N passes over the networks; each row the median of the passes (default 1)
  --relaxed-simd       run Node with relaxed SIMD on (Node 20's --experimental-wasm-relaxed-simd), so
                       slimc's convs use fused multiply-adds as in Chrome 114+ and Node 22+
  --out FILE           where the results go (default bench/results.json)
  --help               this text`;

const FLAGS = {
  quick: { type: 'boolean', default: false },
  nets: { type: 'string' },
  ratios: { type: 'string' },
  threads: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  'no-ort': { type: 'boolean', default: false },
  schedule: { type: 'string' },
  repeat: { type: 'string' },
  out: { type: 'string' },
  'relaxed-simd': { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

/** The flags given; strict, so that a misspelt one stops the run before minutes of timing. */
function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS }).values;
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    process.exit(2);
  }
}

function options(argv: readonly string[]): Options {
  const a = parseFlags(argv);
  if (a.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = a.quick;
  const nets = (a.nets ?? (quick ? 'mobilenet' : Object.keys(NETWORKS).join(','))).split(',') as NetworkName[];
  for (const n of nets) if (!(n in NETWORKS)) throw new Error(`unknown network ${n}; one of ${Object.keys(NETWORKS).join(', ')}`);
  return {
    nets,
    ratios: a.ratios ?? (quick ? '0,0.7' : '0,0.4,0.7'),
    threads: (a.threads ?? (quick ? '1' : '1,2')).split(',').map((t) => integerFlag('--threads', t)),
    runs: integerFlag('--runs', a.runs ?? '30'),
    warmup: integerFlag('--warmup', a.warmup ?? (quick ? '3' : '5'), 0),
    ort: !a['no-ort'],
    schedule: parseSchedule(a.schedule ?? 'interleaved'),
    repeat: integerFlag('--repeat', a.repeat ?? '1'),
    nodeFlags: a['relaxed-simd'] ? RELAXED_SIMD_FLAGS : [],
    // A quick run does not overwrite the full run's record.
    out: a.out ?? new URL(quick ? './results.quick.json' : './results.json', import.meta.url).pathname,
  };
}

/** A flag's integer value, at least `min`. */
function integerFlag(flag: string, text: string, min = 1): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer of at least ${min}, got ${text}`);
  return n;
}

function runWorker(net: NetworkName, threads: number, opts: Options): Promise<WorkerResult> {
  const args = ['--net', net, '--threads', String(threads)];
  args.push('--ratios', opts.ratios, '--runs', String(opts.runs), '--warmup', String(opts.warmup), '--schedule', opts.schedule);
  if (!opts.ort) args.push('--no-ort');
  return runScript<WorkerResult>('./latency_worker.ts', args, `benchmark of ${net} (threads ${threads})`, opts.nodeFlags);
}

/** Runs a benchmark script in its own process and returns the JSON object its last line prints. */
function runScript<T>(script: string, scriptArgs: readonly string[], what: string, nodeFlags: readonly string[] = []): Promise<T> {
  const args = [...nodeFlags, '--import', 'tsx', new URL(script, import.meta.url).pathname, ...scriptArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${what} exited with code ${code}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() as string) as T);
    });
  });
}

/** Derived figures of one row: all ratios within the same process. */
export interface Row extends RatioResult {
  readonly net: NetworkName;
  readonly threads: number;
  readonly variant: string;
  readonly macReduction: number;
  readonly speedup: number;
  /** speedup / macReduction: 1 means the time fell as much as the MACs. */
  readonly efficiency: number;
  /** interpreter / unpruned module. */
  readonly overInterpreter: number;
  /** onnxruntime-web / pruned module, on the same pruned network. */
  readonly overOrt: number | null;
  /** With --repeat: the lowest and highest speedup / MAC reduction over the passes. */
  readonly efficiencyRange?: readonly [number, number];
}

function rows(results: readonly WorkerResult[]): Row[] {
  return results.flatMap((r) =>
    r.ratios.map((x) => {
      const macReduction = r.unpruned.macs / x.macs;
      const speedup = x.unpruned.medianMs / x.pruned.medianMs;
      return {
        ...x,
        net: r.net,
        threads: r.backend.threads,
        variant: r.fma ? `${r.backend.variant}+fma` : r.backend.variant,
        macReduction,
        speedup,
        efficiency: speedup / macReduction,
        overInterpreter: x.interpreter.medianMs / x.unpruned.medianMs,
        overOrt: x.ort === null ? null : x.ort.medianMs / x.pruned.medianMs,
      };
    }),
  );
}

/**
 * One row per (network, threads, ratio) from the rows of several passes: each ratio the median of
 * the passes' ratios (each measured within one process), each time the median of their medians.
 */
function mergePasses(passes: readonly (readonly Row[])[]): Row[] {
  if (passes.length === 1) return [...passes[0]];
  return passes[0].map((first, i) => {
    const same = passes.map((p) => p[i]);
    const timing = (pick: (r: Row) => Timing | null): Timing | null => {
      const all = same.map(pick);
      if (all.some((t) => t === null)) return null;
      const ts = all as Timing[];
      return { medianMs: median(ts.map((t) => t.medianMs)), runs: ts.reduce((a, t) => a + t.runs, 0) };
    };
    const efficiencies = same.map((r) => r.efficiency);
    return {
      ...first,
      pruned: timing((r) => r.pruned) as Timing,
      unpruned: timing((r) => r.unpruned) as Timing,
      interpreter: timing((r) => r.interpreter) as Timing,
      ort: timing((r) => r.ort),
      speedup: median(same.map((r) => r.speedup)),
      efficiency: median(efficiencies),
      overInterpreter: median(same.map((r) => r.overInterpreter)),
      overOrt: first.overOrt === null ? null : median(same.map((r) => r.overOrt as number)),
      efficiencyRange: [Math.min(...efficiencies), Math.max(...efficiencies)],
    };
  });
}

const ms = (t: { medianMs: number } | null) => (t === null ? '-' : t.medianMs.toFixed(2));
const x2 = (v: number) => `${v.toFixed(2)}x`;
const millions = (v: number) => (v / 1e6).toFixed(1);

function markdown(all: readonly Row[], opts: Options, overhead: OpOverhead): string {
  const header =
    '| network | backend (threads) | ratio | params (M) | MACs (M) | MAC reduction | pruned ms | unpruned ms | speedup | speedup / MAC reduction | interpreter ms | interpreter / unpruned | onnxruntime-web ms | onnxruntime-web / pruned | compile s | model.js KB | activations KB |';
  const rule = `|${header
    .split('|')
    .slice(1, -1)
    .map(() => '---')
    .join('|')}|`;
  const lines = all.map(
    (r) =>
      `| ${r.net} | ${r.variant} (${r.threads}) | ${r.ratio} | ${millions(r.params)} | ${millions(r.macs)} | ${x2(r.macReduction)} | ${ms(r.pruned)} | ${ms(r.unpruned)} | ${x2(r.speedup)} | ${r.efficiency.toFixed(2)} | ${ms(r.interpreter)} | ${x2(r.overInterpreter)} | ${ms(r.ort)} | ${r.overOrt === null ? '-' : x2(r.overOrt)} | ${(r.compileMs / 1000).toFixed(1)} | ${(r.moduleBytes / 1024).toFixed(1)} | ${(r.peakActivationBytes / 1024).toFixed(0)} |`,
  );
  const pruned = all.filter((r) => r.ratio > 0);
  const efficient = pruned.filter((r) => r.efficiency >= 0.85);
  const faster = all.filter((r) => r.overInterpreter > 1);
  const withOrt = pruned.filter((r) => r.overOrt !== null);
  const beatsOrt = withOrt.filter((r) => (r.overOrt as number) >= 1.6);
  const largest = Math.max(...all.map((r) => r.moduleBytes));
  const threadRows = opts.nets.flatMap((net) => {
    const byThreads = new Map(all.filter((r) => r.net === net && r.ratio === all[0].ratio).map((r) => [r.threads, r]));
    const one = byThreads.get(1);
    return [...byThreads.values()]
      .filter((r) => r.threads > 1 && one)
      .map(
        (r) =>
          `- ${net}: unpruned ${ms((one as Row).unpruned)} ms on 1 thread, ${ms(r.unpruned)} ms on ${r.threads} (${x2((one as Row).unpruned.medianMs / r.unpruned.medianMs)}; separate processes)`,
      );
  });
  return [
    `Batch 1, median of ${opts.runs} runs after ${opts.warmup} warm-up runs, ${opts.schedule === 'alone' ? 'each candidate timed alone (blocks of consecutive runs, rotating)' : 'candidates interleaved run by run'} in the same process${opts.repeat > 1 ? `; ${opts.repeat} passes over the networks, each ratio the median of the passes' ratios, each time the median of their medians` : ''}. ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)} at the end.`,
    `MACs: ${COST_CONVENTION}.`,
    '',
    `Per-op cost of a 1x1 conv [1,8,8,16] -> 16 with bias and relu (kernel included; ${overhead.layers}-layer chain less a 1-layer one, median of ${overhead.runs} interleaved runs): plan ${overhead.planUsPerOp.toFixed(2)} us, engine path (runKernel) ${overhead.engineUsPerOp.toFixed(2)} us (${x2(overhead.engineUsPerOp / overhead.planUsPerOp)}).`,
    '',
    header,
    rule,
    ...lines,
    '',
    'Targets:',
    `- pruned speedup >= 0.85 x MAC reduction: ${efficient.length} of ${pruned.length} pruned rows${
      pruned.length > efficient.length
        ? ` (below: ${pruned
            .filter((r) => r.efficiency < 0.85)
            .map(
              (r) =>
                `${r.net}@${r.ratio}/${r.threads}t ${r.efficiency.toFixed(2)}${r.efficiencyRange ? ` (${r.efficiencyRange.map((e) => e.toFixed(2)).join('-')})` : ''}`,
            )
            .join(', ')})`
        : ''
    }`,
    `- pruned module >= 1.6x faster than onnxruntime-web on the same pruned network: ${beatsOrt.length} of ${withOrt.length} pruned rows${
      withOrt.length > beatsOrt.length
        ? ` (below: ${withOrt
            .filter((r) => (r.overOrt as number) < 1.6)
            .map((r) => `${r.net}@${r.ratio}/${r.threads}t ${x2(r.overOrt as number)}`)
            .join(', ')})`
        : ''
    }`,
    `- plan per-op cost <= 4 us: ${overhead.planUsPerOp.toFixed(2)} us`,
    `- compiled unpruned faster than the interpreter: ${faster.length} of ${all.length} rows`,
    `- model.js < 110 KB: largest ${(largest / 1024).toFixed(1)} KB`,
    ...(threadRows.length > 0 ? ['', 'Threads (unpruned module, ratio row ' + all[0].ratio + '):', ...threadRows] : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const overhead = await runScript<OpOverhead>('./op_overhead.ts', [], 'per-op overhead benchmark');
  // Passes outermost: a network's repeats lie minutes apart, so one slow spell of the machine
  // reaches one pass of a row, not all of them.
  const passes: WorkerResult[][] = [];
  for (let pass = 0; pass < opts.repeat; pass++) {
    const results: WorkerResult[] = [];
    for (const net of opts.nets) {
      for (const threads of opts.threads) results.push(await runWorker(net, threads, opts));
    }
    passes.push(results);
  }
  const results = passes.flat();
  const all = mergePasses(passes.map(rows));
  const table = markdown(all, opts, overhead);
  await writeFile(
    opts.out,
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() }, options: { ...opts, out: relative(process.cwd(), opts.out) }, opOverhead: overhead, results, rows: all }, null, 2)}\n`,
  );
  process.stdout.write(`${table}\nwrote ${opts.out}\n`);
}

await main();
