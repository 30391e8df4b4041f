// BatchNorm in training mode: normalise with the batch's own statistics over N, H, W.
//
// The backward pass is the closed form (Ioffe & Szegedy), with per-channel values broadcast
// rather than tiled, and per-channel sums taken as average pools (see channelMean): for
// M = N*H*W samples per channel, xhat = (x - mean) * rstd,
//   dbeta = sum dy,  dgamma = sum dy * xhat,  dx = gamma * rstd * (dy - (dbeta + xhat * dgamma) / M).
// The running statistics follow PyTorch: momentum 0.1, and the running variance is updated
// with the unbiased batch variance (times M / (M - 1)) while the batch is normalised with the
// biased one.
import * as tf from '@tensorflow/tfjs-core';

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
 * The mean of each channel (last axis) over all other axes, as a [C] tensor. For [N,H,W,C] it is
 * an average pool over the whole image, then a mean over the batch: tfjs-backend-wasm reduces
 * only innermost axes, so tf.mean over N, H, W would first transpose the whole tensor.
 */
export function channelMean(x: tf.Tensor): tf.Tensor1D {
  if (x.rank !== 4) return tf.mean(x, [...Array(x.rank - 1).keys()]) as tf.Tensor1D;
  const [n, h, w, c] = x.shape;
  const perImage = tf.avgPool(x as tf.Tensor4D, [h, w], 1, 'valid');
  return tf.mean(tf.reshape(perImage, [n, c]), 0);
}

/**
 * y = gamma * (x - mean_B) / sqrt(var_B + eps) + beta over the last axis of x ([N,C] or
 * [N,H,W,C]). `onStatistics` receives the batch statistics as kept tensors the caller frees.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  onStatistics: (stats: BatchStatistics) => void,
): tf.Tensor {
  const count = x.size / x.shape[x.rank - 1];
  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const mean = channelMean(input);
    const centered = tf.sub(input, mean);
    const variance = channelMean(tf.square(centered));
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    const normalised = tf.mul(centered, rstd);
    onStatistics({ mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count });
    save([normalised, rstd, scale]);
    return {
      value: tf.add(tf.mul(normalised, scale), shift),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xhat, r, g] = saved;
        const dBeta = tf.mul(channelMean(dy), count);
        const dGamma = tf.mul(channelMean(tf.mul(dy, xhat)), count);
        const correction = tf.div(tf.add(tf.mul(xhat, dGamma), dBeta), count);
        const dx = tf.mul(tf.sub(dy, correction), tf.mul(g, r));
        return [dx, dGamma, dBeta];
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
