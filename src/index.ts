// slimc's public API (`import { ... } from 'slimc'`). The DSL is `slimc/dsl`. Everything not
// exported here is internal and may change between versions.
export { compile, prune, train, type CompileOptions, type ModelSource, type PruneOptions, type TrainOptions } from './api.ts';
export { loadModel, type LoadModelOptions } from './cli/load_model.ts';
export {
  exportOnnx,
  importOnnx,
  importOnnxFile,
  nchwToNhwc,
  nhwcToNchw,
  EXPORT_OPSET,
  type OnnxImport,
  type OnnxImportOptions,
} from './frontends/onnx/index.ts';
export { writeSlimModel } from './ir/model_files.ts';
export { printGraph } from './ir/text/printer.ts';
export { parseGraph } from './ir/text/parser.ts';
export { cost, COST_CONVENTION, type Cost } from './ir/cost.ts';
export { verify } from './ir/verify.ts';
export { SlimcError, GraphError, ParseError, UnsupportedError } from './ir/errors.ts';
export type { Graph } from './ir/types.ts';
export { compileGraph, writeCompiled, type CompileReport, type Compiled } from './compiler/compile.ts';
export type { CheckOptions, CheckResult } from './codegen/check.ts';
export { slimGraph, type SlimOptions, type SlimResult } from './passes/slim.ts';
export type { SlimReport } from './passes/report.ts';
export { slimCycle, finetune, type SlimCycleOptions, type SlimCycleResult } from './train/slimming.ts';
export { trainConfig, DEFAULT_TRAIN_CONFIG, type TrainConfig } from './train/config.ts';
export { imageDataset, type ImageDataset, type ImageDatasetInput } from './train/data.ts';
export { loadMnist } from './train/mnist.ts';
export type { TrainHooks, TrainResult } from './train/trainer.ts';
