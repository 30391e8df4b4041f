// Layout conversions at the ONNX border. ONNX (like PyTorch) is NCHW with OIHW filters and
// [out, in] linear weights; the IR is NHWC with HWIO filters and [in, out] dense weights, and its
// flatten of [N, H, W, C] orders features (h*W + w)*C + c where ONNX's flatten of [N, C, H, W]
// orders them c*H*W + h*W + w. Every function returns a new array.
import { permuteAxes } from '../../util/permute_axes.ts';

/** [O, I, kh, kw] -> [kh, kw, I, O]. */
export const oihwToHwio = (data: Float32Array, oihw: readonly number[]): Float32Array => permuteAxes(data, oihw, [2, 3, 1, 0]);

/** [kh, kw, I, O] -> [O, I, kh, kw]. */
export const hwioToOihw = (data: Float32Array, hwio: readonly number[]): Float32Array => permuteAxes(data, hwio, [3, 2, 0, 1]);

/** [rows, cols] -> [cols, rows]. */
export const transpose2d = (data: Float32Array, rows: number, cols: number): Float32Array => permuteAxes(data, [rows, cols], [1, 0]);

/** A 2-D value that is the flatten of a [C, H, W] feature map: IR features in HWC order. */
export interface FlatOrder {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** For each IR feature index (HWC order), the ONNX feature index (CHW order) it holds. */
export function onnxIndexOfIrFeature({ channels, height, width }: FlatOrder): number[] {
  const order = new Array<number>(channels * height * width);
  for (let h = 0; h < height; h++)
    for (let w = 0; w < width; w++) for (let c = 0; c < channels; c++) order[(h * width + w) * channels + c] = (c * height + h) * width + w;
  return order;
}

/** Rows of a [features, cols] matrix (or a vector, cols = 1) moved from CHW to HWC order. */
export function rowsChwToHwc(data: Float32Array, flat: FlatOrder, cols = 1): Float32Array {
  const out = new Float32Array(data.length);
  onnxIndexOfIrFeature(flat).forEach((onnxRow, irRow) => out.set(data.subarray(onnxRow * cols, (onnxRow + 1) * cols), irRow * cols));
  return out;
}

/** Rows of a [features, cols] matrix moved from HWC to CHW order (the inverse of rowsChwToHwc). */
export function rowsHwcToChw(data: Float32Array, flat: FlatOrder, cols = 1): Float32Array {
  const out = new Float32Array(data.length);
  onnxIndexOfIrFeature(flat).forEach((onnxRow, irRow) => out.set(data.subarray(irRow * cols, (irRow + 1) * cols), onnxRow * cols));
  return out;
}

/** A batch of NCHW images [n, c, h, w] as NHWC. */
export const nchwToNhwc = (data: Float32Array, nchw: readonly number[]): Float32Array => permuteAxes(data, nchw, [0, 2, 3, 1]);

/** A batch of NHWC images [n, h, w, c] as NCHW. */
export const nhwcToNchw = (data: Float32Array, nhwc: readonly number[]): Float32Array => permuteAxes(data, nhwc, [0, 3, 1, 2]);
