// A fuzzer worker: a child process that runs cases through the CLI's main() (inspect, then
// compile, which imports the emitted module to check it) and type-checks the model.d.ts of every
// successful compile. The parent gives it a time limit per case and restarts it when it dies, so
// a hang or a crash is seen as such; keeping the process across cases saves starting tfjs each time.
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { loadModel } from '../../src/cli/load_model.ts';
import { graphInputs } from '../../src/ir/node.ts';
import { declarationProblems } from './declarations.ts';
import { MARKER_VARIABLE } from './mutate.ts';

export interface WorkerJob {
  readonly dir: string;
  readonly model: string;
  /** Compile even when inspect refuses the model (the loader is shared; a sample checks that). */
  readonly compileAlways: boolean;
  /** The file injected code writes (hostile names read its path from the environment). */
  readonly marker: string;
}

export interface CommandResult {
  readonly code: number;
  /** The last lines of stderr, for the report of a failure. */
  readonly stderr: string;
}

export interface WorkerResult {
  readonly inspect: CommandResult;
  readonly compile: CommandResult | null;
  /** Diagnostics of model.d.ts (empty: valid; null: nothing compiled). */
  readonly declarations: readonly string[] | null;
}

/** main(argv) with stdout and stderr kept from the terminal. */
async function run(argv: readonly string[]): Promise<CommandResult> {
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = () => true;
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  };
  try {
    const code = await main(argv);
    return { code, stderr: stderr.split('\n').slice(-6).join('\n') };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

async function runJob(job: WorkerJob): Promise<WorkerResult> {
  process.env[MARKER_VARIABLE] = job.marker;
  const model = join(job.dir, job.model);
  const inspect = await run(['inspect', model, '--json']);
  if (inspect.code !== 0 && !job.compileAlways) return { inspect, compile: null, declarations: null };
  const out = join(job.dir, 'out');
  const compile = await run(['compile', model, '--out', out, '--json']);
  if (compile.code !== 0) return { inspect, compile, declarations: null };
  const graph = await loadModel(join(out, 'model.slim'));
  const declarations = await declarationProblems(out, { inputs: graphInputs(graph).map((n) => n.id), outputs: graph.outputs });
  return { inspect, compile, declarations };
}

process.on('message', (job: WorkerJob) => {
  runJob(job).then(
    (result) => process.send?.({ ok: true, result }),
    (e: unknown) => process.send?.({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
process.send?.({ ready: true });
