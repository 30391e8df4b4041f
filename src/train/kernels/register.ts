// Installs what training needs beyond stock tfjs: replacement backward kernels for the wasm
// backend, and conv gradient functions that also handle dilation.
import * as tf from '@tensorflow/tfjs-core';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  convGeometry,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  type ConvGeometry,
} from './conv_backprop.ts';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormTrain, batchNormTrainGrad } from './batch_norm_kernels.ts';
import { maxPoolGrad, unsortedSegmentSum } from './js_kernels.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type PadAttr = Parameters<typeof convGeometry>[4];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvAttrs {
  readonly strides: number | [number, number];
  readonly dilations?: number | [number, number];
  readonly pad: PadAttr;
  readonly dimRoundingMode?: Rounding;
}

/** A kernel input as a tensor: the engine hands kernels the tensors the op was called with. */
function tensor4d(info: tf.TensorInfo | undefined, what: string): tf.Tensor4D {
  if (!(info instanceof tf.Tensor) || info.rank !== 4) throw new Error(`${what} must be a rank-4 tensor`);
  return info as tf.Tensor4D;
}

const attrsOf = <T>(args: KernelArgs) => args.attrs as unknown as T;

const geometryOf = (a: ConvAttrs, xShape: readonly number[], filterShape: readonly number[], depthwise: boolean): ConvGeometry =>
  convGeometry(xShape, filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise);

/** The backward functions of one kind of conv (conv_backprop.ts), and the kernel names they serve. */
interface ConvBackprop {
  /** The forward kernel, whose gradient function needs dilation support. */
  readonly forward: 'Conv2D' | 'DepthwiseConv2dNative';
  readonly depthwise: boolean;
  readonly filterGrad: typeof conv2dFilterGrad;
  readonly inputGrad: typeof conv2dInputGrad;
}

const CONV_BACKPROPS: readonly ConvBackprop[] = [
  { forward: 'Conv2D', depthwise: false, filterGrad: conv2dFilterGrad, inputGrad: conv2dInputGrad },
  { forward: 'DepthwiseConv2dNative', depthwise: true, filterGrad: depthwiseFilterGrad, inputGrad: depthwiseInputGrad },
];

type Kernel = { readonly name: string; readonly run: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] };

/** The kernels `<forward>BackpropFilter` and `<forward>BackpropInput`, with tfjs-backend-cpu's attributes. */
const backpropKernels = ({ forward, depthwise, filterGrad, inputGrad }: ConvBackprop): Kernel[] => [
  {
    name: `${forward}BackpropFilter`,
    run: (args) => {
      const x = tensor4d(args.inputs.x, 'x');
      const a = attrsOf<ConvAttrs & { filterShape: number[] }>(args);
      return filterGrad(x, tensor4d(args.inputs.dy, 'dy'), a.filterShape, geometryOf(a, x.shape, a.filterShape, depthwise));
    },
  },
  {
    name: `${forward}BackpropInput`,
    run: (args) => {
      const filter = tensor4d(args.inputs.filter, 'filter');
      const a = attrsOf<ConvAttrs & { inputShape: number[] }>(args);
      return inputGrad(tensor4d(args.inputs.dy, 'dy'), filter, a.inputShape, geometryOf(a, a.inputShape, filter.shape, depthwise));
    },
  },
];

/** Kernels with tfjs semantics (attribute names and meaning as tfjs-backend-cpu's). */
const wasmKernels: readonly Kernel[] = [
  ...CONV_BACKPROPS.flatMap(backpropKernels),
  { name: 'MaxPoolGrad', run: maxPoolGrad },
  { name: 'UnsortedSegmentSum', run: unsortedSegmentSum },
];

/** slimc's own kernels (training-mode batch norm), for both backends training runs on. */
const sharedKernels: readonly Kernel[] = [
  { name: BATCH_NORM_TRAIN, run: batchNormTrain },
  { name: BATCH_NORM_TRAIN_GRAD, run: batchNormTrainGrad },
];

/** Names of the wasm kernels this module replaces or adds. */
export const WASM_TRAINING_KERNELS: readonly string[] = [...wasmKernels, ...sharedKernels].map((k) => k.name);

function register(k: Kernel, backendName: string): void {
  const existing = tf.getKernel(k.name, backendName);
  if (existing?.kernelFunc === k.run) return;
  if (existing) tf.unregisterKernel(k.name, backendName);
  tf.registerKernel({ kernelName: k.name, backendName, kernelFunc: k.run });
}

/**
 * Registers the replacement kernels for backend 'wasm', and slimc's own for 'wasm' and 'cpu'.
 * Call after tfjs-backend-wasm has been imported (its own registrations would otherwise replace
 * these). Idempotent.
 */
export function registerWasmTrainingKernels(): void {
  for (const k of wasmKernels) register(k, 'wasm');
  for (const k of sharedKernels) for (const backendName of ['wasm', 'cpu']) register(k, backendName);
}

const isOne = (v: number | readonly number[] | undefined) => v === undefined || (typeof v === 'number' ? v === 1 : v.every((d) => d === 1));

let convGradientsRegistered = false;

/**
 * Replaces the gradient functions of Conv2D and DepthwiseConv2dNative by ones that also handle
 * dilation (tfjs's throw "dilation rates greater than 1 are not yet supported"). Undilated convs
 * keep tfjs's own gradient. Needs tfjs's gradients registered first.
 */
export function registerDilatedConvGradients(): void {
  if (convGradientsRegistered) return;
  for (const { forward, depthwise, filterGrad, inputGrad } of CONV_BACKPROPS) {
    const stock = tf.getGradient(forward);
    if (!stock) throw new Error(`tfjs's gradient of ${forward} is not registered`);
    tf.registerGradient({
      ...stock,
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as ConvAttrs;
        if (isOne(a.dilations)) return stock.gradFunc(dy, saved, attrs);
        const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
        const g = geometryOf(a, x.shape, filter.shape, depthwise);
        const dy4 = dy as tf.Tensor4D;
        return { x: () => inputGrad(dy4, filter, x.shape, g), filter: () => filterGrad(x, dy4, filter.shape, g) };
      },
    });
  }
  convGradientsRegistered = true;
}
