// The module's own kernels for moving channels (the last axis) on the wasm heap, as JS source:
// channel selection (the IR's gather) and channel concatenation. Pruned networks run many of
// both (DenseNet: a concat and a selection per layer), and tfjs-backend-wasm's own are slow:
// GatherV2 computes every element's coordinates through heap-allocated vectors (about ten times
// slower than a JS loop), and Concat allocates a subarray per pixel and input.
//
// Both copy channel by channel-run: a run of consecutive channels is one copyWithin per pixel on
// one view of the whole heap (no allocation), a short run a strided element loop. Measured in
// Node 20 per copied element: a selection of 129 of 132 channels 0.25 ns against 1.9 ns
// element by element; a scattered one (95 of 141 in 34 runs) 1.4 ns against 1.6 ns; a concat of
// [1024, 130] and [1024, 12] 64 us against 170 us for the backend's.

/** The kernels a module may register, by the helper that calls them. */
export type ChannelKernel = 'gather' | 'concat';

/** Runs shorter than this copy element by element: copyWithin's call costs more than it saves. */
const SHORT_RUN = 16;

/** `copyRun(heap, from, fromStride, to, toStride, length, pixels)`: one channel run, every pixel. */
const COPY_RUN_SOURCE = `
const copyRun = (heap, from, fromStride, to, toStride, length, pixels) => {
  if (length >= ${SHORT_RUN}) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap.copyWithin(to, from, from + length);
  } else if (length === 1) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap[to] = heap[from];
  } else {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) for (let k = 0; k < length; k++) heap[to + k] = heap[from + k];
  }
};`;

const KERNEL_SOURCES: Readonly<Record<ChannelKernel, string>> = {
  gather: `
  // x[..., indices[j]] for each j: each run of consecutive indices is copied at once.
  'SlimcGatherChannels': ({ inputs: { x }, attrs: { indices }, backend }) => {
    const channels = x.shape[x.shape.length - 1];
    const kept = indices.length;
    const out = backend.makeOutput([...x.shape.slice(0, -1), kept], 'float32');
    if (kept === 0 || channels === 0) return out;
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = src.length / channels;
    for (let j = 0; j < kept; ) {
      let length = 1;
      while (j + length < kept && indices[j + length] === indices[j] + length) length++;
      copyRun(heap, (src.byteOffset >> 2) + indices[j], channels, (dst.byteOffset >> 2) + j, kept, length, pixels);
      j += length;
    }
    return out;
  },`,
  concat: `
  // The inputs side by side along the last axis, each one run per pixel.
  'SlimcConcatChannels': ({ inputs, backend }) => {
    const widths = inputs.map((x) => x.shape[x.shape.length - 1]);
    const total = widths.reduce((a, b) => a + b, 0);
    const out = backend.makeOutput([...inputs[0].shape.slice(0, -1), total], 'float32');
    if (total === 0) return out;
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = dst.length / total;
    let column = 0;
    inputs.forEach((x, i) => {
      if (widths[i] > 0) copyRun(heap, backend.typedArrayFromHeap(x).byteOffset >> 2, widths[i], (dst.byteOffset >> 2) + column, total, widths[i], pixels);
      column += widths[i];
    });
    return out;
  },`,
};

/** `registerKernels()`: registers `kernels` for the wasm backend, once per process. */
export function channelKernelsSource(kernels: readonly ChannelKernel[]): string {
  if (kernels.length === 0) return 'const registerKernels = () => {};';
  return [
    COPY_RUN_SOURCE.trim(),
    '// Heap views after makeOutput (allocating may grow, and so replace, the wasm memory); offsets in float32s.',
    `const KERNELS = {${kernels.map((k) => KERNEL_SOURCES[k]).join('')}\n};`,
    'const registerKernels = () => {',
    "  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) if (!getKernel(kernelName, 'wasm')) registerKernel({ kernelName, backendName: 'wasm', kernelFunc });",
    '};',
  ].join('\n');
}
