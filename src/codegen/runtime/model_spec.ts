// The model-specific object an emitted model.js passes to its runtime (model_runtime.js):
// everything the compiler knows about one model. The emitter writes it as one object literal;
// the runtime reads nothing else from the module around it.
import type { Tensor } from '@tensorflow/tfjs-core';
import type { EncodedPlan } from '../plan/plan_types.ts';
import type { ModelInfo } from './model_api.ts';

/** m.info as the compiler writes it: all but what loading decides (the backend and the runtime that run). */
export type RuntimeModelInfo = Omit<ModelInfo, 'backend' | 'runtime'>;

/** A constant of the engine path: a float tensor, or channel indices (listed or a base64 bit mask). */
export type EngineConstant = readonly ['float32' | 'int32', readonly number[] | string];

export interface ModelSpec {
  readonly info: RuntimeModelInfo;
  /** The weights file next to model.js, and the digest of its tensor names and shapes. */
  readonly weightsFile: string;
  readonly weightsLayout: string;
  /** Tensors uploaded: W[i] is file entry uploadFrom[i] (default i), in shape uploadShapes[i] (default the file's). */
  readonly weightCount: number;
  readonly uploadFrom: Readonly<Record<number, number>>;
  readonly uploadShapes: Readonly<Record<number, readonly number[]>>;
  /** The tfjs-backend-wasm version the plan's kernel arguments are made for. */
  readonly backendVersion: string;
  readonly plan: EncodedPlan | null;
  /** Why there is no plan (an op it does not cover), when there is none. */
  readonly planUnsupported: string | null;
  /** Activation floats per sample (the plan's arena, or what it would be): the memory check of both paths. */
  readonly arenaFloatsPerSample: number;
  readonly constants: readonly EngineConstant[];
  /** The engine path: one tfjs kernel call per node. */
  readonly forward: (weights: readonly Tensor[], constants: readonly (Tensor | Int32Array)[], inputs: readonly Tensor[]) => Tensor[];
}
