// slimc's ONNX frontend: import .onnx models (as PyTorch exports CNNs) and export IR graphs as
// NCHW ONNX for any ONNX runtime.
export { importOnnx, importOnnxFile, OPSET_RANGE, type OnnxImport, type OnnxImportOptions } from './import.ts';
export { SUPPORTED_OPS } from './ops.ts';
export { KEEP_BN_EXPORT } from './folded_bn.ts';
export { nchwToNhwc, nhwcToNchw } from './layout.ts';
export { exportOnnx, EXPORT_OPSET } from './export.ts';
