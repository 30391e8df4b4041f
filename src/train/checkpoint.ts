// Training checkpoints: one directory per checkpoint, each a complete model that every slimc
// command reads (model.slim + model.weights.bin), plus what resuming needs (the optimizer's
// momentum buffers and the loop's position):
//
//   ckpt/epoch-003/model.slim  model.weights.bin  optimizer.weights.bin  state.json
//   ckpt/latest.json           {"checkpoint": "epoch-003"}
//
// A checkpoint is written into a temporary directory and renamed into place; latest.json is
// replaced the same way afterwards. An interruption at any moment leaves the previous
// checkpoint and pointer intact (at worst a stray temporary directory, removed next time).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SlimcError } from '../ir/errors.ts';
import { parseGraph } from '../ir/text/parser.ts';
import { printGraph } from '../ir/text/printer.ts';
import type { Graph, Weights } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { readWeightsFile, writeWeightsFile } from '../ir/weights_file_io.ts';
import { writeFileAtomically } from '../util/atomic_write.ts';
import { describeFsError } from '../util/fs_errors.ts';
import type { TrainConfig } from './config.ts';

export const CHECKPOINT_FORMAT = 'slimc-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** What one epoch achieved. */
export interface EpochRecord {
  /** 1-based: the number of epochs complete after it. */
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly testLoss: number;
  readonly testAccuracy: number;
  readonly seconds: number;
}

/** Where the training loop stands. */
export interface TrainingState {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  /** What this run is ('train', 'finetune', ...), for people reading the directory. */
  readonly phase: string;
  readonly dataset: string;
  readonly config: TrainConfig;
  /** Steps taken in total; resuming continues with step + 1. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  readonly history: readonly EpochRecord[];
  /** True once every epoch is done. */
  readonly complete: boolean;
}

export interface Checkpoint {
  readonly graph: Graph;
  readonly optimizer: Weights;
  readonly state: TrainingState;
}

const FILES = { model: 'model.slim', weights: 'model.weights.bin', optimizer: 'optimizer.weights.bin', state: 'state.json' } as const;
const LATEST = 'latest.json';

/** `epoch-003` after 3 whole epochs; `epoch-003-step-000412` when stopped inside epoch 4. */
export function checkpointName(state: TrainingState): string {
  const epochs = Math.floor(state.step / state.stepsPerEpoch);
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return state.step % state.stepsPerEpoch === 0 ? `epoch-${pad(epochs, 3)}` : `epoch-${pad(epochs, 3)}-step-${pad(state.step, 6)}`;
}

/**
 * Writes a checkpoint under `dir` and points latest.json at it; returns its directory. With
 * `keep`, only the newest `keep` checkpoints stay (names sort in training order).
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint, keep = Infinity): Promise<string> {
  const name = checkpointName(checkpoint.state);
  const final = join(dir, name);
  const temporary = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await removeStrayTemporaries(dir);
    await mkdir(temporary);
    await writeFile(join(temporary, FILES.model), printGraph(checkpoint.graph));
    await writeWeightsFile(join(temporary, FILES.weights), checkpoint.graph.weights);
    await writeWeightsFile(join(temporary, FILES.optimizer), checkpoint.optimizer);
    await writeFile(join(temporary, FILES.state), `${JSON.stringify(checkpoint.state, null, 2)}\n`);
    await replaceDirectory(temporary, final);
    await writeFileAtomically(join(dir, LATEST), `${JSON.stringify({ checkpoint: name })}\n`, 'the latest-checkpoint pointer');
    await removeOlder(dir, name, keep);
  } catch (e) {
    await rm(temporary, { recursive: true, force: true });
    if (e instanceof SlimcError) throw e;
    throw new SlimcError(`cannot write the checkpoint: ${describeFsError(e)}`, final);
  }
  return final;
}

/** Deletes checkpoint directories older than the newest `keep` (never `current`). */
async function removeOlder(dir: string, current: string, keep: number): Promise<void> {
  if (!Number.isFinite(keep)) return;
  const names = (await readdir(dir)).filter((n) => /^epoch-\d+(-step-\d+)?$/.test(n)).sort();
  for (const old of names.slice(0, Math.max(0, names.length - keep))) {
    if (old !== current) await rm(join(dir, old), { recursive: true, force: true });
  }
}

async function removeStrayTemporaries(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('.') && entry.endsWith('.tmp')) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** Renames `from` to `to`, replacing a directory already there (kept until the new one is in). */
async function replaceDirectory(from: string, to: string): Promise<void> {
  const old = `${to}.${randomBytes(4).toString('hex')}.old.tmp`;
  const existed = await exists(to);
  if (existed) await rename(to, old);
  await rename(from, to);
  if (existed) await rm(old, { recursive: true, force: true });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Reads a checkpoint: `path` is a checkpoint directory, or a training output directory whose
 * latest.json names one.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const dir = (await exists(join(path, LATEST))) ? join(path, await latestName(path)) : path;
  if (!(await exists(join(dir, FILES.state)))) {
    throw new SlimcError(`is not a checkpoint: it has neither ${LATEST} nor ${FILES.state}`, path);
  }
  const state = parseState(await readText(join(dir, FILES.state)), join(dir, FILES.state));
  const weights = await readWeightsFile(join(dir, FILES.weights));
  const graph = verify(parseGraph(await readText(join(dir, FILES.model)), weights, join(dir, FILES.model)));
  const optimizer = await readWeightsFile(join(dir, FILES.optimizer));
  return { graph, optimizer, state };
}

async function latestName(dir: string): Promise<string> {
  const file = join(dir, LATEST);
  const json = parseJson(await readText(file), file) as { checkpoint?: unknown };
  if (typeof json.checkpoint !== 'string' || json.checkpoint.includes('/') || json.checkpoint.startsWith('.')) {
    throw new SlimcError('does not name a checkpoint directory ({"checkpoint": "epoch-003"})', file);
  }
  return json.checkpoint;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new SlimcError(`cannot read: ${describeFsError(e)}`, path);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SlimcError(`is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, file);
  }
}

function parseState(text: string, file: string): TrainingState {
  const s = parseJson(text, file) as Partial<TrainingState>;
  if (s.format !== CHECKPOINT_FORMAT) throw new SlimcError(`is not a slimc checkpoint state (format '${String(s.format)}')`, file);
  if (s.version !== CHECKPOINT_VERSION)
    throw new SlimcError(`has checkpoint version ${String(s.version)}; this slimc reads version ${CHECKPOINT_VERSION}`, file);
  if (!Number.isInteger(s.step) || !Number.isInteger(s.stepsPerEpoch) || !s.config || !Array.isArray(s.history)) {
    throw new SlimcError('lacks step, stepsPerEpoch, config or history', file);
  }
  return s as TrainingState;
}
