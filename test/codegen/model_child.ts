// Runs an emitted model in a fresh Node process (the wasm backend starts once per process, so a
// backend choice or a V8 flag needs a process of its own): loads it with the given options,
// predicts a fixed batch of 2 inputs and prints the backend, the runtime and the output.
import { spawn } from 'node:child_process';

const CHILD = `
const { load } = await import(process.env.SLIMC_MODEL);
const model = await load(JSON.parse(process.env.SLIMC_LOAD));
const sample = model.info.inputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
const x = Float32Array.from({ length: 2 * sample }, (_, i) => Math.sin(i));
const y = await model.predict(x);
if (!(y instanceof Float32Array)) throw new Error('the child runs models of one output');
process.stdout.write(JSON.stringify({ backend: model.info.backend, runtime: model.info.runtime, y: Array.from(y) }));
`;

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the child printed. */
export interface ChildPrediction {
  readonly backend: object;
  readonly runtime: { readonly fma?: boolean } & object;
  readonly y: number[];
}

/**
 * Runs the child on the model at `modelUrl` with load options `load` and node flags `flags`; it
 * must exit on its own within the timeout.
 */
export function runChild(modelUrl: string, load: object, flags: readonly string[] = [], timeoutMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', CHILD], {
      env: { ...process.env, SLIMC_MODEL: modelUrl, SLIMC_LOAD: JSON.stringify(load) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit within ${timeoutMs} ms (load ${JSON.stringify(load)}); stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
