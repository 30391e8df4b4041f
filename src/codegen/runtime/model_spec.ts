// The model-specific object an emitted model.js passes to its runtime (model_runtime.js):
// everything the compiler knows about one model. The emitter writes it as one object literal;
// the runtime reads nothing else from the module around it.
import type { Tensor } from '@tensorflow/tfjs-core';
import type { EncodedPlan } from '../plan/plan_types.ts';

export type BorderLayout = 'NHWC' | 'NCHW' | 'NC';

export interface RuntimeBorderValue {
  readonly name: string;
  /** With the batch the graph records as dimension 0 (any batch N is accepted). */
  readonly shape: readonly number[];
  readonly layout: BorderLayout;
}

export interface RuntimeInput extends RuntimeBorderValue {
  /** The shape of one sample: shape without the batch dimension. */
  readonly sampleShape: readonly number[];
}

export interface RuntimeModelInfo {
  readonly name: string;
  readonly inputs: readonly RuntimeInput[];
  readonly outputs: readonly RuntimeBorderValue[];
  readonly params: number;
  readonly macs: number;
  readonly flops: number;
  /** The plan's arena for one sample: the peak of activation memory, in bytes. */
  readonly peakActivationBytes: number;
  readonly compiler: string;
}

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

export interface BackendInfo {
  readonly name: 'wasm';
  readonly variant: 'wasm' | 'wasm-simd' | 'wasm-threaded-simd';
  readonly simd: boolean;
  readonly threads: number;
  readonly note?: string;
}

/** What runs the model: the plan, or the engine path (with the reason when the plan was not chosen). */
export interface RuntimeInfo {
  readonly name: 'plan' | 'engine';
  readonly note?: string;
}

export interface LoadOptions {
  readonly weights?: string | URL | ArrayBuffer | Uint8Array;
  readonly wasmPath?: string | Readonly<Record<string, string>>;
  readonly threads?: number;
  readonly runtime?: 'plan' | 'engine';
}
