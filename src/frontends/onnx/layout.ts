// Layout conversions at the ONNX border. ONNX (like PyTorch) is NCHW with OIHW filters and
// [out, in] linear weights; the IR is NHWC with HWIO filters and [in, out] dense weights, and its
// flatten of [N, H, W, C] orders features (h*W + w)*C + c where ONNX's flatten of [N, C, H, W]
// orders them c*H*W + h*W + w. Every function returns a new array.

/** [O, I, kh, kw] -> [kh, kw, I, O]. */
export function oihwToHwio(data: Float32Array, [o, i, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = data[((a * i + b) * kh + y) * kw + x];
  return out;
}

/** [kh, kw, I, O] -> [O, I, kh, kw]. */
export function hwioToOihw(data: Float32Array, [kh, kw, i, o]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((a * i + b) * kh + y) * kw + x] = data[((y * kw + x) * i + b) * o + a];
  return out;
}

/** [rows, cols] -> [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

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

/** Visits every element of a batch of [n, c, h, w] images with its NCHW and its NHWC index. */
function forEachPixel([n, c, h, w]: readonly number[], visit: (nchw: number, nhwc: number) => void): void {
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) visit(((b * c + k) * h + y) * w + x, ((b * h + y) * w + x) * c + k);
}

/** A batch of NCHW images as NHWC. */
export function nchwToNhwc(data: Float32Array, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  forEachPixel([n, c, h, w], (nchw, nhwc) => (out[nhwc] = data[nchw]));
  return out;
}

/** A batch of NHWC images as NCHW. */
export function nhwcToNchw(data: Float32Array, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  forEachPixel([n, c, h, w], (nchw, nhwc) => (out[nchw] = data[nhwc]));
  return out;
}
