// Compiled by slimc 0.1.0. Declarations of model.js.
import type { Tensor } from '@tensorflow/tfjs-core';

export interface BorderValue {
  readonly name: string;
  /** Dimension 0 is the batch the model was built for; predict accepts any batch N. */
  readonly shape: readonly number[];
  readonly layout: 'NHWC' | 'NCHW' | 'NC';
}

export interface InputValue extends BorderValue {
  /** The shape of one sample: shape without the batch dimension. */
  readonly sampleShape: readonly number[];
}

export interface BackendInfo {
  readonly name: 'wasm';
  /** The wasm binary that runs: plain SIMD unless threads were asked for and obtained. */
  readonly variant: 'wasm' | 'wasm-simd' | 'wasm-threaded-simd';
  readonly simd: boolean;
  readonly threads: number;
  /** Why fewer threads run than were asked for, when that is known. */
  readonly note?: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly inputs: readonly InputValue[];
  readonly outputs: readonly BorderValue[];
  readonly params: number;
  /** Multiply-accumulates of conv and dense layers per sample. */
  readonly macs: number;
  /** 2 x macs (the Network Slimming paper's convention). */
  readonly flops: number;
  /** Peak activation memory for one sample, in bytes (batch N takes N times this). */
  readonly peakActivationBytes: number;
  readonly compiler: string;
  readonly backend: BackendInfo;
  readonly runtime: RuntimeInfo;
}

/** What runs the model: the compiled plan (kernel exports called directly) or the engine path. */
export interface RuntimeInfo {
  readonly name: 'plan' | 'engine';
  /**
   * The plan's convolution kernels: 'slimc' (its own wasm SIMD kernels run the dense convs of up to
   * 128 output channels, XNNPACK the rest) or 'xnnpack' (all of them). Absent on the engine path.
   */
  readonly convolutions?: 'slimc' | 'xnnpack';
  /**
   * Whether 3x3 stride-1 convs from 32 channels or more run as Winograd F(2x2, 3x3) (with slimc's
   * convolutions): 2.25x fewer multiply-adds, for their filters held transformed (16/9 of their
   * size: packed by XNNPACK, or as they are for slimc's kernels). Absent on the engine path.
   */
  readonly winograd?: boolean;
  /**
   * Whether slimc's conv kernels run with fused multiply-adds (relaxed SIMD's f32x4.relaxed_madd:
   * one instruction and one rounding per multiply-add), which needs a host with relaxed SIMD
   * (Chrome 114+, Node 22+). Absent on the engine path.
   */
  readonly fma?: boolean;
  /** Why the engine path runs: asked for, an op the plan does not cover, or a backend the plan was not made for. */
  readonly note?: string;
}

export interface LoadOptions {
  /** The weights file: a path (Node), a URL, or its bytes. Default: model.weights.bin next to model.js. */
  readonly weights?: string | URL | ArrayBuffer | Uint8Array;
  /** Where tfjs-backend-wasm's .wasm files are: a directory URL, or a map by file name. */
  readonly wasmPath?: string | Readonly<Record<string, string>>;
  /** Threads to run on (default 1: the plain SIMD build). See info.backend for what runs. */
  readonly threads?: number;
  /** 'plan' (default): the compiled plan, checked against the backend at load; 'engine': one tfjs kernel call per node. */
  readonly runtime?: 'plan' | 'engine';
  /**
   * Who runs the plan's convolutions: 'slimc' (default on one thread: slimc's direct SIMD kernels
   * for the dense convs of up to 128 output channels, faster there than XNNPACK's, whose tiles of 8
   * channels waste work on pruned layers) or 'xnnpack' (default with threads: slimc's run on one).
   */
  readonly convolutions?: 'slimc' | 'xnnpack';
  /**
   * With slimc's convolutions, run 3x3 stride-1 convs from 32+ channels as Winograd F(2x2, 3x3)
   * (default true): faster (VGG-19 1.5-1.8x, DenseNet-40 1.1x), for their filters held transformed
   * on the wasm heap (16/9 of their size); false keeps them direct.
   */
  readonly winograd?: boolean;
  /**
   * With slimc's convolutions, fuse their multiply-adds where the host has relaxed SIMD (default
   * true; see info.runtime.fma): faster, with results that differ from the unfused ones in the
   * last bits (each multiply-add rounds once instead of twice). false gives the same bits on every
   * host.
   */
  readonly fma?: boolean;
}

/** One step of the plan (a node, or a channel copy the plan adds) and its median time. */
export interface StepTime {
  readonly step: string;
  readonly op: string;
  readonly microseconds: number;
}

export interface PredictOptions {
  /** Where to write the output (returned): a Float32Array of its size (one per output name for several outputs). */
  readonly into?: { "prob \"out\"": Float32Array; "/features/0/Conv": Float32Array; };
}

export interface Model {
  readonly info: ModelInfo;
  /** Runs the model on a batch in the source model's layout ([N,4,8,8] NCHW; [N,10] NC). */
  predict(x: { readonly x: Float32Array | Tensor; readonly "in:2": Float32Array | Tensor; }, opts?: PredictOptions): Promise<{ readonly "prob \"out\"": Float32Array; readonly "/features/0/Conv": Float32Array; }>;
  /** One prediction on zeros, so that the first real one does not pay for kernel setup. */
  warmup(): Promise<void>;
  /** Times each step of the plan on x: median microseconds over opts.runs runs (default 20), in plan order. Plan runtime only. */
  profile(x: { readonly x: Float32Array | Tensor; readonly "in:2": Float32Array | Tensor; }, opts?: { readonly runs?: number }): Promise<readonly StepTime[]>;
  /** Frees the model's weight tensors and its plans' memory. */
  dispose(): void;
}

/** Errors a caller can act on (wrong input shape, corrupt weights file); the message names the place. */
export declare class SlimcModelError extends Error {}

export declare function load(opts?: LoadOptions): Promise<Model>;
