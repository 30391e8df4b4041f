// A graph's weights as tfjs state for training: a tf.Variable per learned weight, and the BN
// running statistics as tensors replaced after every step. Reads back into plain IR weights
// for checkpoints and for the passes.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames, weightsOf } from '../ir/node.ts';
import type { Graph, Weight, WeightName, Weights } from '../ir/types.ts';

/** BN running means and variances: statistics, not learned by gradient descent. */
export function statisticNames(graph: Graph): ReadonlySet<WeightName> {
  const names = new Set<WeightName>();
  for (const n of graph.nodes) {
    if (n.op !== 'batch_norm') continue;
    const w = bnWeightNames(n.params);
    names.add(w.mean).add(w.variance);
  }
  return names;
}

// tfjs variable names are global: each TrainableWeights gets its own prefix.
let instances = 0;

export class TrainableWeights {
  readonly variables = new Map<WeightName, tf.Variable>();
  private readonly statistics = new Map<WeightName, tf.Tensor>();

  constructor(readonly graph: Graph) {
    const prefix = `slimc${++instances}/`;
    const stats = statisticNames(graph);
    const used = new Set(graph.nodes.flatMap((n) => weightsOf(n)));
    for (const name of used) {
      const w = graph.weights[name];
      if (!w) throw new SlimcError('weight is not in the graph', `@${name}`);
      const t = tf.tensor(w.data, [...w.shape], 'float32');
      if (stats.has(name)) this.statistics.set(name, t);
      else {
        this.variables.set(name, tf.variable(t, true, prefix + name));
        t.dispose();
      }
    }
  }

  /** The tensor of a weight (a variable or a statistic), as the interpreter's lookup. */
  readonly lookup = (name: WeightName): tf.Tensor => {
    const t = this.variables.get(name) ?? this.statistics.get(name);
    if (!t) throw new SlimcError('weight is not in the graph', `@${name}`);
    return t;
  };

  /** Replaces a statistic's tensor (the old one is freed, the new one is kept). */
  setStatistic(name: WeightName, value: tf.Tensor): void {
    const old = this.statistics.get(name);
    if (!old) throw new SlimcError('is not a BN statistic', `@${name}`);
    this.statistics.set(name, tf.keep(value));
    old.dispose();
  }

  /** The current values as IR weights (unused weights of the graph pass through). */
  read(): Weights {
    const out: Record<WeightName, Weight> = { ...this.graph.weights };
    for (const [name, t] of [...this.variables, ...this.statistics]) {
      out[name] = { shape: this.graph.weights[name].shape, data: Float32Array.from(t.dataSync() as Float32Array) };
    }
    return out;
  }

  /** The graph with the current weights. */
  snapshot(): Graph {
    return { ...this.graph, weights: this.read() };
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const t of this.statistics.values()) t.dispose();
    this.variables.clear();
    this.statistics.clear();
  }
}
