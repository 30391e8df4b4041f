// BatchNorm in training mode: normalise with the batch's own statistics over N, H, W. Forward
// and backward are one kernel each (kernels/batch_norm_kernels.ts: the closed-form backward of
// Ioffe & Szegedy, per-channel sums in float64).
// The running statistics follow PyTorch: momentum 0.1, and the running variance is updated
// with the unbiased batch variance (times M / (M - 1)) while the batch is normalised with the
// biased one.
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './kernels/batch_norm_kernels.ts';

export const BN_MOMENTUM = 0.1;

/** The batch statistics a training-mode BN used, for the running-average update. */
export interface BatchStatistics {
  readonly mean: tf.Tensor1D;
  /** Biased (divided by M). */
  readonly variance: tf.Tensor1D;
  /** Samples per channel, M = N*H*W. */
  readonly count: number;
}

/**
 * y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta over the last axis of x ([N,C] or
 * [N,H,W,C]), then max(y, 0) if `relu` (the relu after the norm, in the same kernels).
 * `onStatistics` receives the batch statistics as kept tensors the caller frees.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  onStatistics: (stats: BatchStatistics) => void,
  relu = false,
): tf.Tensor {
  const count = x.size / x.shape[x.rank - 1];
  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const inputs = { x: input, gamma: scale, beta: shift };
    const [y, mean, variance, rstd] = tf.engine().runKernel(BATCH_NORM_TRAIN, inputs, { epsilon, relu }) as tf.Tensor[];
    // The caller owns (and frees) the statistics; the gradient keeps its own mean.
    onStatistics({ mean: tf.keep(tf.clone(mean)) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count });
    save([input, mean, rstd, scale, shift]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, r, g, b] = saved;
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x: xs, mean: m, rstd: r, gamma: g, beta: b }, { relu }) as tf.Tensor[];
      },
    };
  });
  return forward(x, gamma, beta);
}

/** running <- (1 - momentum) * running + momentum * batch, with the unbiased batch variance. */
export function updateRunningStatistics(
  runningMean: tf.Tensor,
  runningVariance: tf.Tensor,
  stats: BatchStatistics,
): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const unbiased = stats.count > 1 ? tf.mul(stats.variance, stats.count / (stats.count - 1)) : stats.variance;
    const blend = (running: tf.Tensor, batch: tf.Tensor) => tf.add(tf.mul(running, 1 - BN_MOMENTUM), tf.mul(batch, BN_MOMENTUM));
    return [blend(runningMean, stats.mean), blend(runningVariance, unbiased)];
  });
}
