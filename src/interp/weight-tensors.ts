// The tensors of a graph's weights, made on first use and kept until dispose(). A caller that
// runs the same weights many times (equivalence checks, benchmarks) holds one of these instead
// of uploading every weight on every run.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import type { Weights, WeightName } from '../ir/types.ts';

export class WeightTensors {
  private readonly tensors = new Map<WeightName, tf.Tensor>();

  constructor(
    /** The weights the tensors are made from (usually `graph.weights`). */
    readonly weights: Weights,
  ) {}

  /** The tensor of weight `name`; the same tensor on every call until dispose(). */
  get(name: WeightName): tf.Tensor {
    const cached = this.tensors.get(name);
    if (cached) return cached;
    const weight = this.weights[name];
    if (!weight) throw new SlimcError('weight is not in the graph', `@${name}`);
    // keep(): a tf.tidy around the first use must not dispose a tensor the cache hands out again.
    const tensor = tf.keep(tf.tensor(weight.data, [...weight.shape], 'float32'));
    this.tensors.set(name, tensor);
    return tensor;
  }

  /** How many weight tensors exist now. */
  get size(): number {
    return this.tensors.size;
  }

  /** Frees every tensor made so far; later get() calls make them again. */
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}
