// Evaluation in inference mode (BN with running statistics): the reference interpreter's
// semantics, batch by batch.
import * as tf from '@tensorflow/tfjs-core';
import { runGraph, type ParamSource } from '../interp/interpret.ts';
import { WeightTensors } from '../interp/weight-tensors.ts';
import { graphInputs } from '../ir/node.ts';
import type { Graph } from '../ir/types.ts';
import type { LabelledImages } from './data.ts';
import { logitsValue } from './forward.ts';

export interface Evaluation {
  readonly accuracy: number;
  /** Mean softmax cross-entropy. */
  readonly loss: number;
  readonly count: number;
}

/** Accuracy and loss of `graph` on `split`; weights from `params` or the graph's own. */
export function evaluate(graph: Graph, split: LabelledImages, params?: ParamSource, batchSize = 500): Evaluation {
  const own = params === undefined ? new WeightTensors(graph.weights) : undefined;
  // Score the logits, not a final softmax: the loss needs them.
  const scored: Graph = { ...graph, outputs: [logitsValue(graph).id] };
  const input = graphInputs(graph)[0];
  const perSample = split.images.length / split.count;
  let correct = 0;
  let lossSum = 0;
  try {
    for (let start = 0; start < split.count; start += batchSize) {
      const n = Math.min(batchSize, split.count - start);
      const [batchCorrect, batchLoss] = tf.tidy(() => {
        const x = tf.tensor(split.images.subarray(start * perSample, (start + n) * perSample), [n, ...input.type.shape.slice(1)]);
        const [logits] = runGraph(scored, { [input.id]: x }, params ?? own);
        const labels = tf.tensor1d(split.labels.subarray(start, start + n), 'int32');
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
        const loss = tf.losses.softmaxCrossEntropy(
          tf.oneHot(labels, logits.shape[1] as number),
          logits,
          undefined,
          undefined,
          tf.Reduction.SUM,
        );
        return [hits.dataSync()[0], loss.dataSync()[0]];
      });
      correct += batchCorrect;
      lossSum += batchLoss;
    }
  } finally {
    own?.dispose();
  }
  return { accuracy: correct / split.count, loss: lossSum / split.count, count: split.count };
}
