// The state of one import: what each ONNX value has become, and the IR graph being built.
//
// An ONNX value becomes one of four things (a `Sym`):
// - an IR value (`value`), NHWC inside; a 2-D value that flattens a [C, H, W] map with H*W > 1
//   carries its `flat` order, because the IR's flatten orders features HWC where ONNX's is CHW;
//   consumers that mix features (dense) permute their weights, per-feature ones (BN, scale, shift)
//   permute their parameters, and anything else gets a gather restoring ONNX's order;
// - a constant (`const`): initializers, Constant nodes, and the results of shape arithmetic
//   (Shape/Gather/Unsqueeze/Concat chains), folded at import;
// - a zero Pad not yet applied (`padded`), which the Conv or AveragePool reading it absorbs;
// - an NHWC view (`nhwc`) of a 4-D value, Transpose(perm=[0,2,3,1]), which a flatten reads as
//   the IR's own flatten order (slimc's exporter writes IR flattens this way);
// - a channels view (`channels`) of a 4-D value whose channel axis a Reshape split into several
//   axes (the first half of a channel shuffle), which a Reshape back to [N, C, H, W] reads as a
//   channel permutation (see convert_channels.ts).
import { SlimcError } from '../../ir/errors.ts';
import { freshName } from '../../ir/fresh_name.ts';
import { GraphBuilder } from '../../ir/graph_builder.ts';
import type { Node, TensorType, ValueId, Weight } from '../../ir/types.ts';
import { RESERVED_NAME } from '../../ir/verify.ts';
import { onnxIndexOfIrFeature, type FlatOrder } from './layout.ts';
import type { OnnxNode } from './proto.ts';
import { elementCount, type ConstTensor } from './tensor.ts';

export interface IrValue {
  readonly kind: 'value';
  readonly id: ValueId;
  /** The IR shape (NHWC for 4-D values). */
  readonly shape: readonly number[];
  readonly flat?: FlatOrder;
}

export interface ConstValue {
  readonly kind: 'const';
  /** The initializer's or the producing value's name, used to name weights made from it. */
  readonly name: string;
  readonly tensor: ConstTensor;
}

export interface SpatialPads {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

export interface PaddedValue {
  readonly kind: 'padded';
  readonly source: IrValue;
  readonly pads: SpatialPads;
  /** The Pad node, for errors. */
  readonly by: string;
}

export interface NhwcView {
  readonly kind: 'nhwc';
  readonly source: IrValue;
  readonly by: string;
}

export interface ChannelView {
  readonly kind: 'channels';
  readonly source: IrValue;
  /** The sizes the channel axis is split into: ONNX shape [N, ...factors, H, W]. */
  readonly factors: readonly number[];
  /** For each position of the factor axes (row-major), the source channel there. */
  readonly table: readonly number[];
  /** The last node that shaped the view, for errors. */
  readonly by: string;
}

export type Sym = IrValue | ConstValue | PaddedValue | NhwcView | ChannelView;

/** The ONNX shape of an IR value: NCHW for 4-D values. */
export const onnxShape = (v: IrValue): number[] => (v.shape.length === 4 ? [v.shape[0], v.shape[3], v.shape[1], v.shape[2]] : [...v.shape]);

/**
 * A node as converters build it: the importer computes its type with the IR's shape rules. Conv
 * and dense declare their output channels through a partial `type` (the rules read them there).
 */
export type NodeDraft =
  Exclude<Node, { op: 'input' }> extends infer N
    ? N extends Node
      ? Omit<N, 'type' | 'id'> & { readonly type?: TensorType }
      : never
    : never;

export class ImportContext {
  /** The IR graph being built. */
  private readonly graph = new GraphBuilder((name) => name === RESERVED_NAME);
  private readonly syms = new Map<string, Sym>();
  private readonly consumers = new Map<string, OnnxNode[]>();

  constructor(
    readonly file: string,
    /** The model's ai.onnx opset version. */
    readonly opset: number,
    onnxNodes: readonly OnnxNode[],
    /** Names of the ONNX graph's outputs. */
    private readonly graphOutputs: ReadonlySet<string>,
  ) {
    for (const n of onnxNodes) {
      for (const input of n.input) {
        if (!input) continue;
        const readers = this.consumers.get(input);
        if (readers) readers.push(n);
        else this.consumers.set(input, [n]);
      }
    }
  }

  /** How errors name an ONNX node: `model.onnx: Conv '/features/0/Conv'`. */
  where(node: OnnxNode): string {
    return `${this.file}: ${node.opType} '${nodeName(node)}'`;
  }

  fail(node: OnnxNode, message: string): never {
    throw new SlimcError(message, this.where(node));
  }

  define(name: string, sym: Sym): void {
    this.syms.set(name, sym);
  }

  has(name: string): boolean {
    return this.syms.has(name);
  }

  lookup(name: string): Sym | undefined {
    return this.syms.get(name);
  }

  /** The nodes reading ONNX value `name`. */
  consumersOf(name: string): readonly OnnxNode[] {
    return this.consumers.get(name) ?? [];
  }

  /** Whether output `k` of `node` is absent or read by nobody (optional outputs such as BN's statistics). */
  outputUnused(node: OnnxNode, k: number): boolean {
    const name = node.output[k];
    return !name || (this.consumersOf(name).length === 0 && !this.graphOutputs.has(name));
  }

  /** Fails unless only the first output of `node` is used. */
  expectSingleOutput(node: OnnxNode): void {
    for (let k = 1; k < node.output.length; k++) {
      if (!this.outputUnused(node, k))
        this.fail(node, `output ${k} ('${node.output[k]}') is used; slimc imports inference graphs, where only output 0 is`);
    }
  }

  /** Whether IR value `id` is known under any ONNX name but `name` (so changing its node would show there). */
  hasOtherNames(id: ValueId, name: string): boolean {
    for (const [other, sym] of this.syms) if (other !== name && sym.kind === 'value' && sym.id === id) return true;
    return this.graphOutputs.has(name);
  }

  /** Input `i` of `node`, or undefined when absent (ONNX marks skipped optional inputs with ''). */
  inputName(node: OnnxNode, i: number): string | undefined {
    const name = node.input[i];
    return name ? name : undefined;
  }

  sym(node: OnnxNode, i: number): Sym {
    const name = this.inputName(node, i);
    if (name === undefined) this.fail(node, `input ${i} is required`);
    const sym = this.syms.get(name);
    if (!sym) this.fail(node, `reads '${name}', which is no graph input, initializer or output of an earlier node`);
    return sym;
  }

  /** Input `i` as an IR value (a tensor the network computes). */
  value(node: OnnxNode, i: number): IrValue {
    const sym = this.sym(node, i);
    switch (sym.kind) {
      case 'value':
        return sym;
      case 'const':
        return this.fail(node, `input ${i} ('${node.input[i]}') is a constant; slimc needs it computed from the graph input here`);
      case 'padded':
        return this.fail(node, `reads the output of Pad '${sym.by}'; slimc supports a Pad only in front of Conv or AveragePool`);
      case 'nhwc':
        return this.fail(
          node,
          `reads the output of Transpose '${sym.by}'; slimc supports Transpose(perm=[0,2,3,1]) only in front of Flatten or Reshape`,
        );
      case 'channels':
        return this.fail(
          node,
          `reads the output of '${sym.by}', which splits the channel axis; slimc supports that only as a channel shuffle (Reshape, Transpose of the channel axes, Reshape back)`,
        );
    }
  }

  /** Input `i` as a constant tensor. */
  constant(node: OnnxNode, i: number, what = `input ${i}`): ConstValue {
    const sym = this.sym(node, i);
    if (sym.kind !== 'const') this.fail(node, `${what} ('${node.input[i]}') must be a constant (an initializer or Constant node)`);
    return sym;
  }

  /** Input `i` as a float constant: weights, biases, BN parameters. */
  floats(node: OnnxNode, i: number, what: string): { name: string; dims: readonly number[]; data: Float32Array } {
    const c = this.constant(node, i, what);
    const t = c.tensor;
    const data = t.kind === 'float' ? t.data : Float32Array.from(t.data);
    return { name: c.name, dims: t.dims, data };
  }

  /** Input `i` as integer constants (shapes, axes, indices, pads). */
  ints(node: OnnxNode, i: number, what: string): number[] {
    const t = this.constant(node, i, what).tensor;
    if (t.kind !== 'int') this.fail(node, `${what} must be an integer tensor`);
    return [...t.data];
  }

  /** Input `i` as a scalar constant, or undefined when the input is absent. */
  optionalScalar(node: OnnxNode, i: number, what: string): number | undefined {
    if (this.inputName(node, i) === undefined) return undefined;
    const t = this.constant(node, i, what).tensor;
    if (elementCount(t.dims) !== 1) this.fail(node, `${what} must be a scalar, got shape [${t.dims.join(',')}]`);
    return t.data[0];
  }

  get nodes(): readonly Node[] {
    return this.graph.nodes;
  }

  get weights(): Readonly<Record<string, Weight>> {
    return this.graph.weights;
  }

  /** Appends an IR node (its id made unique, its type from the shape rules) and returns its value. */
  // Inputs are added with addInput: their type is declared, not inferred.
  addNode(preferredId: string, draft: NodeDraft, flat?: FlatOrder): IrValue {
    const id = this.graph.freshId(preferredId);
    const { type } = this.graph.add({ ...draft, id, type: draft.type ?? { dtype: 'f32', shape: [] } } as Node);
    return { kind: 'value', id, shape: type.shape, ...(flat ? { flat } : {}) };
  }

  /** Adds the IR node of ONNX `node` (named after it) and defines its first output as the result. */
  emit(node: OnnxNode, draft: NodeDraft, flat?: FlatOrder): IrValue {
    const v = this.addNode(nodeName(node), draft, flat);
    this.define(node.output[0], v);
    return v;
  }

  /** Appends a graph input of the given IR type. */
  addInput(id: ValueId, type: TensorType): IrValue {
    const unique = this.graph.freshId(id);
    this.graph.append({ op: 'input', id: unique, type });
    return { kind: 'value', id: unique, shape: type.shape };
  }

  /** Replaces the node `id` (same type) by `node`: for fusing a following bias into a dense. */
  replaceNode(node: Node): void {
    this.graph.replace(node);
  }

  nodeById(id: ValueId): Node | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** Stores a weight under a name not taken yet (the preferred one, usually an initializer's). */
  addWeight(preferred: string, shape: readonly number[], data: Float32Array): string {
    return this.graph.weight(this.graph.freshWeightName(preferred), { shape: [...shape], data });
  }

  /** A BN parameter prefix whose four weights are all free. */
  freshParams(preferred: string): string {
    const taken = (p: string) => ['gamma', 'beta', 'mean', 'var'].some((s) => Object.hasOwn(this.weights, `${p}.${s}`));
    return freshName(preferred, taken);
  }

  /**
   * The value in ONNX's feature order: a flatten kept in HWC order gets a gather that puts
   * features back in CHW order, for consumers that cannot absorb the permutation.
   */
  inOnnxOrder(v: IrValue): IrValue {
    if (!v.flat) return v;
    const irIndexOfOnnx = new Array<number>(v.shape[1]);
    onnxIndexOfIrFeature(v.flat).forEach((onnx, ir) => (irIndexOfOnnx[onnx] = ir));
    return this.addNode(`${v.id}.chw`, { op: 'gather', input: v.id, indices: irIndexOfOnnx });
  }
}

/** A node's display name: its name, or its first output's when it has none. */
export const nodeName = (node: OnnxNode): string => node.name || node.output[0] || `<unnamed ${node.opType}>`;
