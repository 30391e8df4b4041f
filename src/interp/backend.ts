// Which tfjs backend executes graphs, and which build of it runs.
//
// The reference backend is tfjs-backend-wasm: in Node it loads its .wasm binaries from its own
// package folder, so no path needs configuring. tfjs-backend-cpu (plain JavaScript kernels) is
// the second opinion that cross-checks the wasm kernels; it is a dev dependency and is loaded
// only when asked for.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';

export type BackendName = 'wasm' | 'cpu';

/** The build of the backend that runs: the wasm backend picks one of three binaries at start. */
export type BackendVariant = 'cpu' | 'wasm' | 'wasm-simd' | 'wasm-threaded-simd';

export interface BackendInfo {
  readonly name: BackendName;
  readonly variant: BackendVariant;
  /** Whether the kernels use WebAssembly SIMD instructions. */
  readonly simd: boolean;
  /** Threads the kernels run on (1 unless the threaded wasm build runs). */
  readonly threads: number;
}

const known = new Map<BackendName, BackendInfo>();
// Backend switches are serialised, so that two concurrent callers never interleave setBackend.
let switching: Promise<void> = Promise.resolve();

/**
 * Makes `name` the current tfjs backend, initialising it on first use. Idempotent: a call for
 * the backend that already runs returns at once.
 */
export function initBackend(name: BackendName = 'wasm'): Promise<void> {
  const next = switching.then(() => activate(name));
  // A failed switch must not poison later ones; the caller still sees its own failure.
  switching = next.catch(() => undefined);
  return next;
}

async function activate(name: BackendName): Promise<void> {
  if (tf.engine().backendName === name && known.has(name)) return;
  if (name === 'wasm') {
    // Importing the package registers the backend with tfjs-core.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    await start('wasm');
    known.set('wasm', await wasmVariant(wasm));
  } else {
    try {
      await import('@tensorflow/tfjs-backend-cpu');
    } catch {
      throw new SlimcError(
        'the cpu backend needs @tensorflow/tfjs-backend-cpu, which is not installed (npm install -D @tensorflow/tfjs-backend-cpu)',
      );
    }
    await start('cpu');
    known.set('cpu', { name: 'cpu', variant: 'cpu', simd: false, threads: 1 });
  }
}

async function start(name: BackendName): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new SlimcError(`the ${name} backend failed to start: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!ok) throw new SlimcError(`the ${name} backend failed to start`);
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

/** The binary the wasm backend chose at start, by the same two flags it consulted. */
async function wasmVariant(wasm: WasmModule): Promise<BackendInfo> {
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const variant: BackendVariant = simd && threaded ? 'wasm-threaded-simd' : simd ? 'wasm-simd' : 'wasm';
  return { name: 'wasm', variant, simd, threads: wasm.getThreadsCount() };
}

/** The backend that runs now, as set by initBackend. */
export function backendInfo(): BackendInfo {
  const current = tf.engine().backendName;
  const info = current === 'wasm' || current === 'cpu' ? known.get(current) : undefined;
  if (!info) throw new SlimcError(`no backend was initialised by initBackend (tfjs runs '${current ?? 'none'}')`);
  return info;
}

/** Makes sure some backend of ours runs: the current one if initBackend set it, else wasm. */
export async function ensureBackend(): Promise<BackendInfo> {
  const current = tf.engine().backendName;
  if ((current === 'wasm' || current === 'cpu') && known.has(current)) return backendInfo();
  await initBackend('wasm');
  return backendInfo();
}
