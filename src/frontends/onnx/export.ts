// The ONNX exporter: any IR graph as an NCHW ONNX model (opset 13) that any ONNX runtime runs and
// that computes what slimc computes. Weights move back to ONNX's layouts (HWIO -> OIHW,
// [in, out] -> [out, in] with Gemm transB=1); fused activations become a Relu or Clip after the
// conv or Gemm; scale_shift becomes Mul + Add; gather a Gather on axis 1.
//
// Names: every IR value keeps its id as ONNX tensor name (graph inputs and outputs included); the
// ONNX node computing it is named after it too. BN parameters are written as PyTorch names them
// (`<params>.weight`, `.bias`, `.running_mean`, `.running_var`), so that importing the exported
// model gives the BNs their names back.
//
// The IR's flatten orders features HWC. Where a flatten only feeds dense layers (and the graph
// does not return it), it is exported as ONNX's Flatten with the dense weights' rows reordered to
// CHW, as PyTorch would write it; otherwise it is Transpose(perm=[0,2,3,1]) + Flatten.
import { match } from 'ts-pattern';
import { SlimcError } from '../../ir/errors.ts';
import { ELEMENTWISE } from '../../ir/elementwise.ts';
import { freshName } from '../../ir/fresh_name.ts';
import { bnWeightNames, graphInputs, isElementwise, usersOf } from '../../ir/node.ts';
import { padAmounts } from '../../ir/shapes.ts';
import type { Activation, ElementwiseNode, Graph, Node, NodeOf, Padding, Pair, TensorType, ValueId } from '../../ir/types.ts';
import { verify } from '../../ir/verify.ts';
import { hwioToOihw, rowsHwcToChw, transpose2d, type FlatOrder } from './layout.ts';
import { AttributeType, DataType, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.ts';
import { floatTensor, int64Tensor } from './tensor.ts';

export const EXPORT_OPSET = 13;
/** The ONNX IR version that goes with opset 13. */
const IR_VERSION = 7;
/** The batch dimension's symbolic name: exported models take any batch size. */
const BATCH = 'N';

const attribute = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: AttributeType.INT, i, floats: [], ints: [], strings: [] }),
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({
    name,
    type: AttributeType.INTS,
    ints: [...ints],
    floats: [],
    strings: [],
  }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: AttributeType.FLOAT, f, floats: [], ints: [], strings: [] }),
};

/** The ONNX shape of an IR type: NCHW for 4-D values. */
const onnxDims = (t: TensorType): number[] => (t.shape.length === 4 ? [t.shape[0], t.shape[3], t.shape[1], t.shape[2]] : [...t.shape]);

function valueInfo(name: string, type: TensorType): OnnxValueInfo {
  const dim = onnxDims(type).map((d, i) => (i === 0 ? { dimParam: BATCH } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

/** Collects nodes and initializers with names unique across the ONNX graph. */
class OnnxWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names: Set<string>;

  constructor(valueNames: Iterable<string>) {
    this.names = new Set(valueNames);
  }

  /** A name not used yet, from `preferred`. */
  fresh(preferred: string): string {
    const name = freshName(preferred, (n) => this.names.has(n));
    this.names.add(name);
    return name;
  }

  floats(preferred: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(preferred);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  int64s(preferred: string, dims: readonly number[], values: readonly number[]): string {
    const name = this.fresh(preferred);
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }

  node(opType: string, name: string, inputs: readonly string[], output: string, attributes: OnnxAttribute[] = []): void {
    this.nodes.push({ opType, name, input: [...inputs], output: [output], attribute: attributes });
  }
}

/** Pads [top, left, bottom, right] of a window over the IR input type `input`. */
function onnxPads(input: TensorType, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding): number[] {
  const [, h, w] = input.shape;
  const [top, bottom] = padAmounts(h, kernel[0], strides[0], dilations[0], padding, 'h');
  const [left, right] = padAmounts(w, kernel[1], strides[1], dilations[1], padding, 'w');
  return [top, left, bottom, right];
}

/** Exports a graph as an ONNX model (bytes of a ModelProto). The graph is verified first. */
export function exportOnnx(graph: Graph): Uint8Array {
  verify(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const typeOf = (v: ValueId): TensorType => (byId.get(v) as Node).type;
  const weight = (name: string) => {
    const w = Object.hasOwn(graph.weights, name) ? graph.weights[name] : undefined;
    if (!w) throw new SlimcError(`weight @${name} is missing`, graph.name);
    return w;
  };
  const users = usersOf(graph);
  const returned = new Set(graph.outputs);
  const writer = new OnnxWriter(graph.nodes.map((n) => n.id));
  /** Flattens exported without a transpose: their features are in CHW order, for the dense layers reading them. */
  const chwFlattens = new Map<ValueId, FlatOrder>();
  let relu6Bounds: [string, string] | undefined;

  /** The activation fused into a conv or dense, as a node after it; returns the name to write the layer's result to. */
  const withActivation = (id: ValueId, activation: Activation): string => {
    if (activation === 'none') return id;
    const pre = writer.fresh(`${id}.pre`);
    if (activation === 'relu') writer.node('Relu', writer.fresh(`${id}.relu`), [pre], id);
    else if (activation === 'sigmoid') writer.node('Sigmoid', writer.fresh(`${id}.sigmoid`), [pre], id);
    else {
      relu6Bounds ??= [writer.floats('relu6.min', [], Float32Array.of(0)), writer.floats('relu6.max', [], Float32Array.of(6))];
      writer.node('Clip', writer.fresh(`${id}.relu6`), [pre, ...relu6Bounds], id);
    }
    return pre;
  };

  /** PyTorch's Hardsigmoid, relu6(x + 3) / 6. */
  const hardSigmoid = (name: string, input: string, output: string) =>
    writer.node('HardSigmoid', name, [input], output, [attribute.float('alpha', 1 / 6), attribute.float('beta', 0.5)]);

  /**
   * An elementwise op as the ONNX op of the same meaning (relu6: Clip(x, 0, 6)), or as PyTorch
   * writes it (silu: Sigmoid, then Mul by x; hard_swish: HardSigmoid, then Mul by x, HardSwish
   * being an opset 14 op).
   */
  const exportElementwise = (n: ElementwiseNode): void => {
    const onnx: string | null = ELEMENTWISE[n.op].onnx;
    if (onnx !== null) return writer.node(onnx, n.id, [n.input], n.id);
    if (n.op === 'relu6') {
      relu6Bounds ??= [writer.floats('relu6.min', [], Float32Array.of(0)), writer.floats('relu6.max', [], Float32Array.of(6))];
      writer.node('Clip', n.id, [n.input, ...relu6Bounds], n.id);
    } else if (n.op === 'hard_sigmoid') {
      hardSigmoid(n.id, n.input, n.id);
    } else {
      const gate = writer.fresh(`${n.id}.gate`);
      if (n.op === 'silu') writer.node('Sigmoid', writer.fresh(`${n.id}.sigmoid`), [n.input], gate);
      else hardSigmoid(writer.fresh(`${n.id}.hard_sigmoid`), n.input, gate);
      writer.node('Mul', n.id, [n.input, gate], n.id);
    }
  };

  const exportNode = (node: Exclude<Node, { op: 'input' }>): void =>
    isElementwise(node)
      ? exportElementwise(node)
      : match(node)
          .with({ op: 'conv2d' }, (n) => {
            const filter = weight(n.filter);
            const inputs = [n.input, writer.floats(n.filter, oihwShape(filter.shape), hwioToOihw(filter.data, filter.shape))];
            if (n.bias) inputs.push(writer.floats(n.bias, [weight(n.bias).shape[0]], weight(n.bias).data));
            writer.node('Conv', n.id, inputs, withActivation(n.id, n.activation), [
              attribute.ints('kernel_shape', n.kernel),
              attribute.ints('strides', n.strides),
              attribute.ints('dilations', n.dilations),
              attribute.ints('pads', onnxPads(typeOf(n.input), n.kernel, n.strides, n.dilations, n.padding)),
              attribute.int('group', n.groups),
            ]);
          })
          .with({ op: 'batch_norm' }, (n) => {
            const names = bnWeightNames(n.params);
            const channels = weight(names.gamma).shape;
            const params = [
              writer.floats(`${n.params}.weight`, channels, weight(names.gamma).data),
              writer.floats(`${n.params}.bias`, channels, weight(names.beta).data),
              writer.floats(`${n.params}.running_mean`, channels, weight(names.mean).data),
              writer.floats(`${n.params}.running_var`, channels, weight(names.variance).data),
            ];
            writer.node('BatchNormalization', n.id, [n.input, ...params], n.id, [attribute.float('epsilon', n.epsilon)]);
          })
          .with({ op: 'max_pool' }, (n) =>
            writer.node('MaxPool', n.id, [n.input], n.id, [
              attribute.ints('kernel_shape', n.kernel),
              attribute.ints('strides', n.strides),
              attribute.ints('pads', onnxPads(typeOf(n.input), n.kernel, n.strides, [1, 1], n.padding)),
            ]),
          )
          .with({ op: 'avg_pool' }, (n) =>
            writer.node('AveragePool', n.id, [n.input], n.id, [
              attribute.ints('kernel_shape', n.kernel),
              attribute.ints('strides', n.strides),
              attribute.ints('pads', onnxPads(typeOf(n.input), n.kernel, n.strides, [1, 1], n.padding)),
              attribute.int('count_include_pad', n.countIncludePad ? 1 : 0),
            ]),
          )
          .with({ op: 'global_avg_pool' }, (n) => writer.node('GlobalAveragePool', n.id, [n.input], n.id))
          .with({ op: 'add' }, (n) => writer.node(n.inputs.length === 2 ? 'Add' : 'Sum', n.id, n.inputs, n.id))
          // A gate [N, 1, 1, C] is [N, C, 1, 1] in NCHW: ONNX broadcasts it the same way.
          .with({ op: 'mul' }, (n) => writer.node('Mul', n.id, n.inputs, n.id))
          .with({ op: 'concat' }, (n) => writer.node('Concat', n.id, n.inputs, n.id, [attribute.int('axis', 1)]))
          .with({ op: 'flatten' }, (n) => exportFlatten(n))
          .with({ op: 'dense' }, (n) => {
            const w = weight(n.weight);
            const [inFeatures, out] = w.shape;
            const flat = chwFlattens.get(n.input);
            const rows = flat ? rowsHwcToChw(w.data, flat, out) : w.data;
            const inputs = [n.input, writer.floats(n.weight, [out, inFeatures], transpose2d(rows, inFeatures, out))];
            if (n.bias) inputs.push(writer.floats(n.bias, [out], weight(n.bias).data));
            writer.node('Gemm', n.id, inputs, withActivation(n.id, n.activation), [attribute.int('transB', 1)]);
          })
          .with({ op: 'gather' }, (n) => {
            const indices = writer.int64s(`${n.id}.indices`, [n.indices.length], n.indices);
            writer.node('Gather', n.id, [n.input, indices], n.id, [attribute.int('axis', 1)]);
          })
          .with({ op: 'scale_shift' }, (n) => exportScaleShift(n))
          .with({ op: 'softmax' }, (n) => writer.node('Softmax', n.id, [n.input], n.id, [attribute.int('axis', 1)]))
          .exhaustive();

  const exportFlatten = (n: NodeOf<'flatten'>): void => {
    const input = typeOf(n.input);
    const [, h, w, c] = input.shape;
    if (input.shape.length !== 4 || h * w === 1) {
      writer.node('Flatten', n.id, [n.input], n.id, [attribute.int('axis', 1)]);
      return;
    }
    const onlyDense = !returned.has(n.id) && (users.get(n.id) ?? []).every((u) => u.op === 'dense');
    if (onlyDense) {
      chwFlattens.set(n.id, { channels: c, height: h, width: w });
      writer.node('Flatten', n.id, [n.input], n.id, [attribute.int('axis', 1)]);
      return;
    }
    const nhwc = writer.fresh(`${n.id}.nhwc`);
    writer.node('Transpose', writer.fresh(`${n.id}.transpose`), [n.input], nhwc, [attribute.ints('perm', [0, 2, 3, 1])]);
    writer.node('Flatten', n.id, [nhwc], n.id, [attribute.int('axis', 1)]);
  };

  const exportScaleShift = (n: NodeOf<'scale_shift'>): void => {
    const rank = typeOf(n.input).shape.length;
    // Per-channel vectors broadcast over NCHW as [C, 1, 1].
    const dims = (w: string) => (rank === 4 ? [weight(w).shape[0], 1, 1] : [weight(w).shape[0]]);
    if (n.scale && n.shift) {
      const scaled = writer.fresh(`${n.id}.scaled`);
      writer.node('Mul', writer.fresh(`${n.id}.scale`), [n.input, writer.floats(n.scale, dims(n.scale), weight(n.scale).data)], scaled);
      writer.node('Add', n.id, [scaled, writer.floats(n.shift, dims(n.shift), weight(n.shift).data)], n.id);
    } else if (n.scale) {
      writer.node('Mul', n.id, [n.input, writer.floats(n.scale, dims(n.scale), weight(n.scale).data)], n.id);
    } else if (n.shift) {
      writer.node('Add', n.id, [n.input, writer.floats(n.shift, dims(n.shift), weight(n.shift).data)], n.id);
    } else {
      writer.node('Identity', n.id, [n.input], n.id);
    }
  };

  for (const node of graph.nodes) if (node.op !== 'input') exportNode(node);

  // ONNX graph outputs must be distinct values produced by nodes: repeat or pass-through outputs go through an Identity.
  const inputIds = new Set(graphInputs(graph).map((n) => n.id));
  const seen = new Set<string>();
  const outputs = graph.outputs.map((id) => {
    let name = id;
    if (seen.has(id) || inputIds.has(id)) {
      name = writer.fresh(`${id}.output`);
      writer.node('Identity', name, [id], name);
    }
    seen.add(name);
    return valueInfo(name, typeOf(id));
  });

  return encodeModel({
    irVersion: IR_VERSION,
    producerName: 'slimc',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: graph.name,
      node: writer.nodes,
      initializer: writer.initializers,
      input: graphInputs(graph).map((n) => valueInfo(n.id, n.type)),
      output: outputs,
      valueInfo: [],
    },
  });
}

/** [kh, kw, I, O] -> [O, I, kh, kw]. */
const oihwShape = ([kh, kw, i, o]: readonly number[]) => [o, i, kh, kw];
