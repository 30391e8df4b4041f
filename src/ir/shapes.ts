// Shape arithmetic the ops' shape rules share (ops.ts holds the rule of each op): sliding windows
// and their padding, and failures that name the node and say what does not fit.
import { GraphError } from './errors.ts';
import type { Node, Padding, Pair, TensorType } from './types.ts';
import { f32 } from './types.ts';

export const formatShape = (shape: readonly number[]) => `[${shape.join(',')}]`;

export const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Output size of a sliding window along one spatial axis (TensorFlow's rule for same/valid). */
export function windowOutputSize(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
  axis: 'h' | 'w',
): number {
  const effectiveKernel = (kernel - 1) * dilation + 1;
  // A switch rather than a ts-pattern match: shape rules run for every node after every pass.
  switch (padding.kind) {
    case 'same':
      return Math.ceil(inSize / stride);
    case 'valid':
      return Math.floor((inSize - effectiveKernel) / stride) + 1;
    case 'explicit': {
      const total = axis === 'h' ? padding.top + padding.bottom : padding.left + padding.right;
      return Math.floor((inSize + total - effectiveKernel) / stride) + 1;
    }
  }
}

/** Padding before and after along one axis, as the executors apply it. */
export function padAmounts(inSize: number, kernel: number, stride: number, dilation: number, padding: Padding, axis: 'h' | 'w'): Pair {
  switch (padding.kind) {
    case 'valid':
      return [0, 0];
    case 'explicit':
      return axis === 'h' ? [padding.top, padding.bottom] : [padding.left, padding.right];
    case 'same': {
      const out = Math.ceil(inSize / stride);
      const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    }
  }
}

export function fail(node: Node, message: string): never {
  throw new GraphError(`${node.op}: ${message}`, `%${node.id}`);
}

export function expectRank(node: Node, t: TensorType, rank: number, what = 'input'): void {
  if (t.shape.length !== rank) {
    fail(node, `${what} must have rank ${rank} (${rank === 4 ? 'NHWC' : '[N, features]'}), got ${formatShape(t.shape)}`);
  }
}

export function spatial(
  node: Node,
  input: TensorType,
  kernel: Pair,
  strides: Pair,
  dilations: Pair,
  padding: Padding,
  channels: number,
): TensorType {
  expectRank(node, input, 4);
  const [n, h, w] = input.shape;
  if ([...kernel, ...strides, ...dilations].some((k) => !Number.isInteger(k) || k < 1)) {
    fail(node, `kernel, strides and dilations must be positive integers`);
  }
  if (padding.kind === 'explicit') {
    const amounts = [padding.top, padding.bottom, padding.left, padding.right];
    if (amounts.some((p) => !Number.isInteger(p) || p < 0)) fail(node, `explicit padding must be non-negative integers`);
  }
  const oh = windowOutputSize(h, kernel[0], strides[0], dilations[0], padding, 'h');
  const ow = windowOutputSize(w, kernel[1], strides[1], dilations[1], padding, 'w');
  if (oh < 1 || ow < 1) {
    fail(node, `a ${kernel[0]}x${kernel[1]} window does not fit the ${h}x${w} input with this padding`);
  }
  return f32([n, oh, ow, channels]);
}
