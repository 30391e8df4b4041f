// Shape rules: the output type of every op from its input types and attributes, and the
// shapes its weights must have. Errors name the node and say what does not fit.
import { match } from 'ts-pattern';
import { GraphError } from './errors.ts';
import { bnWeightNames } from './node.ts';
import type { Node, Padding, Pair, TensorType, ValueId, WeightName } from './types.ts';
import { f32 } from './types.ts';

export const formatShape = (shape: readonly number[]) => `[${shape.join(',')}]`;

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
  return match(padding)
    .with({ kind: 'same' }, () => Math.ceil(inSize / stride))
    .with({ kind: 'valid' }, () => Math.floor((inSize - effectiveKernel) / stride) + 1)
    .with({ kind: 'explicit' }, (p) => {
      const total = axis === 'h' ? p.top + p.bottom : p.left + p.right;
      return Math.floor((inSize + total - effectiveKernel) / stride) + 1;
    })
    .exhaustive();
}

/** Padding before and after along one axis, as the executors apply it. */
export function padAmounts(
  inSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
  axis: 'h' | 'w',
): Pair {
  return match(padding)
    .with({ kind: 'valid' }, (): Pair => [0, 0])
    .with({ kind: 'explicit' }, (p): Pair => (axis === 'h' ? [p.top, p.bottom] : [p.left, p.right]))
    .with({ kind: 'same' }, (): Pair => {
      const out = Math.ceil(inSize / stride);
      const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    })
    .exhaustive();
}

type TypeOf = (v: ValueId) => TensorType;

function fail(node: Node, message: string): never {
  throw new GraphError(`${node.op}: ${message}`, `%${node.id}`);
}

function expectRank(node: Node, t: TensorType, rank: number, what = 'input'): void {
  if (t.shape.length !== rank) {
    fail(node, `${what} must have rank ${rank} (${rank === 4 ? 'NHWC' : '[N, features]'}), got ${formatShape(t.shape)}`);
  }
}

function spatial(
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

/** The output type of `node` given the types of its inputs. */
export function inferType(node: Node, typeOf: TypeOf): TensorType {
  return match(node)
    .with({ op: 'input' }, (n) => {
      if (n.type.shape.length < 2 || n.type.shape.some((d) => !Number.isInteger(d) || d < 1)) {
        fail(n, `input shape must have rank >= 2 and positive dimensions, got ${formatShape(n.type.shape)}`);
      }
      return n.type;
    })
    .with({ op: 'conv2d' }, (n) => {
      const x = typeOf(n.input);
      expectRank(n, x, 4);
      const cin = x.shape[3];
      if (!Number.isInteger(n.groups) || n.groups < 1 || cin % n.groups !== 0) {
        fail(n, `groups=${n.groups} must divide the ${cin} input channels`);
      }
      // cout comes from the node's own type: the filter's last dimension is checked by the verifier.
      const cout = n.type.shape[3];
      if (cout % n.groups !== 0) fail(n, `groups=${n.groups} must divide the ${cout} output channels`);
      return spatial(n, x, n.kernel, n.strides, n.dilations, n.padding, cout);
    })
    .with({ op: 'max_pool' }, { op: 'avg_pool' }, (n) => {
      const x = typeOf(n.input);
      expectRank(n, x, 4);
      return spatial(n, x, n.kernel, n.strides, [1, 1], n.padding, x.shape[3]);
    })
    .with({ op: 'global_avg_pool' }, (n) => {
      const x = typeOf(n.input);
      expectRank(n, x, 4);
      return f32([x.shape[0], 1, 1, x.shape[3]]);
    })
    .with({ op: 'batch_norm' }, { op: 'relu' }, { op: 'relu6' }, { op: 'scale_shift' }, (n) => {
      const x = typeOf(n.input);
      if (x.shape.length !== 2 && x.shape.length !== 4) fail(n, `input must have rank 2 or 4, got ${formatShape(x.shape)}`);
      return x;
    })
    .with({ op: 'softmax' }, (n) => typeOf(n.input))
    .with({ op: 'add' }, (n) => {
      if (n.inputs.length < 2) fail(n, `needs at least 2 inputs, got ${n.inputs.length}`);
      const [first, ...rest] = n.inputs.map(typeOf);
      rest.forEach((t, i) => {
        if (formatShape(t.shape) !== formatShape(first.shape)) {
          fail(n, `operand ${i + 1} (%${n.inputs[i + 1]}) has shape ${formatShape(t.shape)} but operand 0 (%${n.inputs[0]}) has ${formatShape(first.shape)}`);
        }
      });
      return first;
    })
    .with({ op: 'concat' }, (n) => {
      if (n.inputs.length < 1) fail(n, `needs at least 1 input`);
      const types = n.inputs.map(typeOf);
      const lead = types[0].shape.slice(0, -1);
      types.forEach((t, i) => {
        if (formatShape(t.shape.slice(0, -1)) !== formatShape(lead)) {
          fail(n, `operand ${i} (%${n.inputs[i]}) has shape ${formatShape(t.shape)}; all operands must agree on ${formatShape(lead)} before the channel axis`);
        }
      });
      const channels = types.reduce((s, t) => s + t.shape[t.shape.length - 1], 0);
      return f32([...lead, channels]);
    })
    .with({ op: 'flatten' }, (n) => {
      const x = typeOf(n.input);
      return f32([x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)]);
    })
    .with({ op: 'dense' }, (n) => {
      const x = typeOf(n.input);
      expectRank(n, x, 2);
      return f32([x.shape[0], n.type.shape[1]]);
    })
    .with({ op: 'gather' }, (n) => {
      const x = typeOf(n.input);
      const c = x.shape[x.shape.length - 1];
      const bad = n.indices.find((i) => !Number.isInteger(i) || i < 0 || i >= c);
      if (bad !== undefined) fail(n, `index ${bad} is out of range for ${c} channels`);
      if (n.indices.length === 0) fail(n, `selects no channel`);
      return f32([...x.shape.slice(0, -1), n.indices.length]);
    })
    .exhaustive();
}

/** The shape each weight of `node` must have, given its input types. */
export function expectedWeightShapes(node: Node, typeOf: TypeOf): ReadonlyMap<WeightName, readonly number[]> {
  const lastOf = (v: ValueId) => {
    const s = typeOf(v).shape;
    return s[s.length - 1];
  };
  const entries: [WeightName | null, readonly number[]][] = match(node)
    .with({ op: 'conv2d' }, (n): [WeightName | null, readonly number[]][] => {
      const cout = n.type.shape[3];
      return [
        [n.filter, [n.kernel[0], n.kernel[1], lastOf(n.input) / n.groups, cout]],
        [n.bias, [cout]],
      ];
    })
    .with({ op: 'dense' }, (n): [WeightName | null, readonly number[]][] => [
      [n.weight, [lastOf(n.input), n.type.shape[1]]],
      [n.bias, [n.type.shape[1]]],
    ])
    .with({ op: 'batch_norm' }, (n) => Object.values(bnWeightNames(n.params)).map((w): [WeightName, readonly number[]] => [w, [lastOf(n.input)]]))
    .with({ op: 'scale_shift' }, (n): [WeightName | null, readonly number[]][] => [
      [n.scale, [lastOf(n.input)]],
      [n.shift, [lastOf(n.input)]],
    ])
    .with(
      { op: 'input' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      { op: 'add' },
      { op: 'concat' },
      { op: 'flatten' },
      { op: 'gather' },
      { op: 'softmax' },
      () => [],
    )
    .exhaustive();
  return new Map(entries.filter((e): e is [WeightName, readonly number[]] => e[0] !== null));
}
