// The ONNX ops slimc imports, one converter each (opsets 11 to 18 as PyTorch exports CNNs).
// A model using any other op is rejected before conversion starts, with one error listing them all.
import type { Attributes } from './attributes.ts';
import type { ImportContext } from './context.ts';
import { ELEMENTWISE, ELEMENTWISE_OPS } from '../../ir/elementwise.ts';
import { convertSlice, convertSplit } from './convert_channels.ts';
import { convertArithmetic, convertClip, convertElementwise, convertIdentity, convertSoftmax, convertSum } from './convert_elementwise.ts';
import { convertBatchNorm, convertConv, convertGemm, convertMatMul } from './convert_layers.ts';
import { convertAveragePool, convertGlobalAveragePool, convertMaxPool, convertPad, convertReduceMean } from './convert_pool.ts';
import {
  convertCast,
  convertConcat,
  convertConstant,
  convertFlatten,
  convertGather,
  convertReshape,
  convertShape,
  convertSqueeze,
  convertTranspose,
  convertUnsqueeze,
} from './convert_shape.ts';
import type { OnnxNode } from './proto.ts';

export type Converter = (ctx: ImportContext, node: OnnxNode, attrs: Attributes) => void;

/** The IR's elementwise ops that ONNX has under a name of its own (Relu, ...). */
const ELEMENTWISE_CONVERTERS = Object.fromEntries(
  ELEMENTWISE_OPS.flatMap((op) => {
    const onnx: string | null = ELEMENTWISE[op].onnx;
    return onnx === null ? [] : [[onnx, convertElementwise(op)]];
  }),
);

export const CONVERTERS: Readonly<Record<string, Converter>> = {
  ...ELEMENTWISE_CONVERTERS,
  Conv: convertConv,
  BatchNormalization: convertBatchNorm,
  Gemm: convertGemm,
  MatMul: convertMatMul,
  Clip: convertClip,
  MaxPool: convertMaxPool,
  AveragePool: convertAveragePool,
  GlobalAveragePool: convertGlobalAveragePool,
  ReduceMean: convertReduceMean,
  Pad: convertPad,
  Add: convertArithmetic,
  Sub: convertArithmetic,
  Mul: convertArithmetic,
  Div: convertArithmetic,
  Sum: convertSum,
  Softmax: convertSoftmax,
  Identity: convertIdentity,
  Dropout: convertIdentity,
  Constant: convertConstant,
  Shape: convertShape,
  Gather: convertGather,
  Unsqueeze: convertUnsqueeze,
  Squeeze: convertSqueeze,
  Concat: convertConcat,
  Cast: convertCast,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Transpose: convertTranspose,
  Slice: convertSlice,
  Split: convertSplit,
};

export const SUPPORTED_OPS: readonly string[] = Object.keys(CONVERTERS).sort();

/** The default ONNX domain has two spellings. */
export const isDefaultDomain = (domain: string | undefined) => !domain || domain === 'ai.onnx';
