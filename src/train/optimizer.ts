// SGD with momentum (Nesterov by default) and weight decay, exactly as torch.optim.SGD with
// dampening 0, which the Network Slimming code uses:
//   g = grad + wd * p;  buf = momentum * buf + g;  step = nesterov ? g + momentum * buf : buf;
//   p = p - lr * step.
// Buffers start at zero, which gives torch's first step (buf = g). They are part of the
// checkpoint, so a resumed run continues the same trajectory.
import * as tf from '@tensorflow/tfjs-core';
import type { Weight, WeightName, Weights } from '../ir/types.ts';

export interface SgdOptions {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

export class Sgd {
  private readonly buffers = new Map<WeightName, tf.Tensor>();

  constructor(readonly options: SgdOptions) {}

  /** One update of every variable that has a gradient. Frees nothing of the caller's. */
  apply(variables: ReadonlyMap<WeightName, tf.Variable>, grads: tf.NamedTensorMap, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    for (const [name, p] of variables) {
      const grad = grads[name];
      if (!grad) continue;
      const g = tf.tidy(() => (weightDecay === 0 ? tf.clone(grad) : tf.add(grad, tf.mul(p, weightDecay))));
      let step = g;
      if (momentum !== 0) {
        const previous = this.buffers.get(name);
        // keep(): buffers outlive any tidy the caller runs this in.
        const buf = tf.keep(previous ? tf.tidy(() => tf.add(tf.mul(previous, momentum), g)) : tf.clone(g));
        previous?.dispose();
        this.buffers.set(name, buf);
        step = nesterov ? tf.tidy(() => tf.add(g, tf.mul(buf, momentum))) : tf.clone(buf);
        g.dispose();
      }
      tf.tidy(() => {
        p.assign(tf.sub(p, tf.mul(step, lr)));
      });
      step.dispose();
    }
  }

  /** The momentum buffers as weights (for checkpoints). */
  state(variables: ReadonlyMap<WeightName, tf.Variable>): Weights {
    const out: Record<WeightName, Weight> = {};
    for (const [name, buf] of this.buffers) {
      out[name] = { shape: variables.get(name)?.shape ?? buf.shape, data: Float32Array.from(buf.dataSync() as Float32Array) };
    }
    return out;
  }

  /** Restores buffers saved by state(). */
  load(state: Weights): void {
    this.dispose();
    for (const [name, w] of Object.entries(state)) this.buffers.set(name, tf.tensor(w.data, [...w.shape], 'float32'));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

/** The learning rate of `epoch` (0-based): base divided by 10 at each milestone fraction passed. */
export function learningRate(base: number, epoch: number, epochs: number, milestones: readonly number[], decay = 0.1): number {
  const passed = milestones.filter((m) => epoch >= m * epochs).length;
  // Rounded so that 0.1 / 10 prints as 0.01, not 0.010000000000000002.
  return Number((base * decay ** passed).toPrecision(12));
}
