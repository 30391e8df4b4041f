// Elementwise ops: a function applied to every element on its own, with no weights and no
// attributes (relu, relu6, sigmoid). Their nodes all have one shape (ElementwiseNode), and
// everything the IR, the text form, the DSL and ONNX need to know of one is this record; how it
// moves channels, computes and is emitted are one entry each in the channel rules, the
// interpreter's kernels and the emitter's helpers.
export interface ElementwiseDef {
  /** The ONNX op of the same meaning, imported and exported as is (null: special-cased). */
  readonly onnx: string | null;
  /** f(0) = 0, so a channel that is identically zero stays zero. */
  readonly zeroPreserving: boolean;
}

export const ELEMENTWISE = {
  relu: { onnx: 'Relu', zeroPreserving: true },
  // ONNX has no Relu6: it is Clip(x, 0, 6), converted in both directions by the ONNX frontend.
  relu6: { onnx: null, zeroPreserving: true },
  sigmoid: { onnx: 'Sigmoid', zeroPreserving: false },
} as const satisfies Readonly<Record<string, ElementwiseDef>>;

export type ElementwiseOp = keyof typeof ELEMENTWISE;

export const ELEMENTWISE_OPS = Object.keys(ELEMENTWISE) as ElementwiseOp[];

export const isElementwiseOp = (op: string): op is ElementwiseOp => Object.hasOwn(ELEMENTWISE, op);
