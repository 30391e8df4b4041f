// The reference interpreter's public surface.
export { initBackend, backendInfo, ensureBackend, type BackendName, type BackendInfo, type BackendVariant } from './backend.ts';
export { evalNode, type ParamLookup } from './kernels.ts';
export { interpret, runGraph, type InterpretOptions, type ParamSource } from './interpret.ts';
export { WeightTensors } from './weight-tensors.ts';
export { type GraphInputs, type InputData } from './inputs.ts';
