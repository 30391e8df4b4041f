// Test support for emitted modules: compile a graph into a fresh directory inside the repository
// (so that model.js resolves the tfjs packages from its node_modules), import it, and clean up.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { importEmittedModule } from '../../src/codegen/check.ts';
import { compileGraph, writeCompiled, type CompileOptions, type Compiled } from '../../src/compiler/compile.ts';
import type { Graph } from '../../src/ir/types.ts';

/** The API of an emitted model.js, as model.d.ts declares it. */
export interface EmittedModel {
  readonly info: {
    readonly name: string;
    readonly inputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly layout: string }[];
    readonly outputs: readonly { readonly name: string; readonly shape: readonly number[]; readonly layout: string }[];
    readonly params: number;
    readonly macs: number;
    readonly flops: number;
    readonly peakActivationBytes: number;
    readonly backend: { readonly name: string; readonly variant: string; readonly simd: boolean; readonly threads: number };
    readonly runtime: {
      readonly name: 'plan' | 'engine';
      readonly convolutions?: string;
      readonly winograd?: boolean;
      readonly fma?: boolean;
      readonly note?: string;
    };
  };
  predict(x: unknown, opts?: { into?: Float32Array | Record<string, Float32Array> }): Promise<Float32Array | Record<string, Float32Array>>;
  profile(
    x: unknown,
    opts?: { runs?: number },
  ): Promise<readonly { readonly step: string; readonly op: string; readonly microseconds: number }[]>;
  warmup(): Promise<void>;
  dispose(): void;
}

export interface EmittedExports {
  load(opts?: {
    weights?: string | URL | ArrayBuffer | Uint8Array;
    threads?: number;
    runtime?: 'plan' | 'engine';
    convolutions?: 'slimc' | 'xnnpack';
    winograd?: boolean;
    fma?: boolean;
  }): Promise<EmittedModel>;
  SlimcModelError: new (message: string) => Error;
}

export const SCRATCH = resolve(import.meta.dirname, '../../tmp');

export async function scratchDir(prefix: string): Promise<string> {
  await mkdir(SCRATCH, { recursive: true });
  return mkdtemp(join(SCRATCH, `${prefix}-`));
}

export interface CompiledDir {
  readonly dir: string;
  readonly compiled: Compiled;
  readonly exports: EmittedExports;
  readonly cleanup: () => Promise<void>;
}

/** Compiles `graph` into a scratch directory (no check run) and imports its model.js. */
export async function compileToScratch(graph: Graph, opts: CompileOptions = {}): Promise<CompiledDir> {
  const parent = await scratchDir('codegen');
  const dir = join(parent, 'out');
  const compiled = compileGraph(graph, opts);
  await writeCompiled(compiled, graph, dir, { check: false });
  const exports = (await importEmittedModule(dir)) as unknown as EmittedExports;
  return { dir, compiled, exports, cleanup: () => rm(parent, { recursive: true, force: true }) };
}
