// `slimc compile --bench`: the compiled module's latency against the unpruned module's, measured
// in this process, interleaved run by run (so machine noise hits both alike), median of many runs
// after warm-up. Batch 1, seeded random input.
import { join } from 'node:path';
import { importEmittedModule } from '../codegen/check.ts';
import { WEIGHTS_FILE } from '../codegen/module_source.ts';
import { Rng } from '../util/random.ts';

export interface BenchOptions {
  readonly runs?: number;
  readonly warmup?: number;
}

export interface Latency {
  /** Median milliseconds of one predict, batch 1. */
  readonly moduleMs: number;
  /** The unpruned module's median, in the same rounds (null when nothing was pruned). */
  readonly unprunedMs: number | null;
  /** unprunedMs / moduleMs. */
  readonly speedup: number | null;
  readonly runs: number;
  readonly warmup: number;
  readonly backend: { readonly variant: string; readonly threads: number };
}

interface LoadedModel {
  readonly info: {
    readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
    readonly backend: { readonly variant: string; readonly threads: number };
  };
  predict(x: Float32Array | Readonly<Record<string, Float32Array>>): Promise<unknown>;
  dispose(): void;
}

const median = (samples: readonly number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function loadFrom(dir: string): Promise<LoadedModel> {
  const exports = await importEmittedModule(dir);
  return (await exports.load({ weights: join(dir, WEIGHTS_FILE) })) as unknown as LoadedModel;
}

/** Times the module in `dir` and, if given, the unpruned module in `unprunedDir`. */
export async function measureLatency(dir: string, unprunedDir: string | null, opts: BenchOptions = {}): Promise<Latency> {
  const runs = opts.runs ?? 200;
  const warmup = opts.warmup ?? 20;
  const models = [await loadFrom(dir), ...(unprunedDir === null ? [] : [await loadFrom(unprunedDir)])];
  try {
    const rng = new Rng(7);
    const inputs = models[0].info.inputs.map(
      (i) =>
        [
          i.name,
          rng.fill(
            i.shape.slice(1).reduce((a, b) => a * b, 1),
            () => rng.normal(),
          ),
        ] as const,
    );
    const x = inputs.length === 1 ? inputs[0][1] : Object.fromEntries(inputs);
    for (const model of models) for (let i = 0; i < warmup; i++) await model.predict(x);
    const samples = models.map((): number[] => []);
    for (let r = 0; r < runs; r++) {
      for (let m = 0; m < models.length; m++) {
        const start = performance.now();
        await models[m].predict(x);
        samples[m].push(performance.now() - start);
      }
    }
    const moduleMs = median(samples[0]);
    const unprunedMs = models.length > 1 ? median(samples[1]) : null;
    const { variant, threads } = models[0].info.backend;
    return {
      moduleMs,
      unprunedMs,
      speedup: unprunedMs === null ? null : unprunedMs / moduleMs,
      runs,
      warmup,
      backend: { variant, threads },
    };
  } finally {
    for (const model of models) model.dispose();
  }
}
