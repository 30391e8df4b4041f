// SGD with momentum (Nesterov by default) and weight decay, exactly as torch.optim.SGD with
// dampening 0, which the Network Slimming code uses, plus the sparsity subgradient on the
// prunable BN gammas:
//   g = grad + lambda * sign(gamma) (gammas only) + wd * p;  buf = momentum * buf + g;
//   step = nesterov ? g + momentum * buf : buf;  p = p - lr * step.
// The update is one loop over all parameters, with the momentum buffers in one flat array:
// a few dozen small tensors would otherwise cost ~7 engine kernels each per step. Buffers start
// at zero, which gives torch's first step (buf = g). They are part of the checkpoint, so a
// resumed run continues the same trajectory.
import * as tf from '@tensorflow/tfjs-core';
import type { Weight, WeightName, Weights } from '../ir/types.ts';

export interface SgdOptions {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

/** The L1 penalty lambda * sum |gamma| over the named weights, applied as its subgradient. */
export interface L1Penalty {
  readonly weights: ReadonlySet<WeightName>;
  readonly lambda: number;
}

export class Sgd {
  /** Each variable's momentum buffer: a view into one flat array, made at the first update. */
  private buffers = new Map<WeightName, Float32Array>();
  /** Buffers restored by load() before the first update laid the flat array out. */
  private restored = new Map<WeightName, Float32Array>();
  /** Variables updated at least once (their buffers are the optimizer's state). */
  private readonly updated = new Set<WeightName>();

  constructor(readonly options: SgdOptions) {}

  private layOut(variables: ReadonlyMap<WeightName, tf.Variable>): void {
    let total = 0;
    for (const v of variables.values()) total += v.size;
    const flat = new Float32Array(total);
    const buffers = new Map<WeightName, Float32Array>();
    let offset = 0;
    for (const [name, v] of variables) {
      const view = flat.subarray(offset, offset + v.size);
      const saved = this.restored.get(name) ?? this.buffers.get(name);
      if (saved) view.set(saved);
      if (this.restored.has(name)) this.updated.add(name);
      buffers.set(name, view);
      offset += v.size;
    }
    this.buffers = buffers;
    this.restored = new Map();
  }

  /**
   * One update of every variable that has a gradient (torch skips parameters without one).
   * `l1` adds lambda * sign(w) to the gradients of its weights first. Frees nothing of the caller's.
   */
  apply(variables: ReadonlyMap<WeightName, tf.Variable>, grads: tf.NamedTensorMap, lr: number, l1?: L1Penalty): void {
    const { momentum, nesterov, weightDecay } = this.options;
    if (this.buffers.size === 0 || [...variables.keys()].some((name) => !this.buffers.has(name))) this.layOut(variables);
    for (const [name, variable] of variables) {
      const grad = grads[name];
      if (!grad) continue;
      const g = grad.dataSync() as Float32Array;
      const p = Float32Array.from(variable.dataSync() as Float32Array);
      const buf = this.buffers.get(name) as Float32Array;
      const lambda = l1 && l1.lambda !== 0 && l1.weights.has(name) ? l1.lambda : 0;
      for (let i = 0; i < p.length; i++) {
        const w = p[i];
        const gi = g[i] + lambda * Math.sign(w) + weightDecay * w;
        const b = momentum * buf[i] + gi;
        buf[i] = b;
        p[i] = w - lr * (momentum === 0 ? gi : nesterov ? gi + momentum * b : b);
      }
      this.updated.add(name);
      const next = tf.tensor(p, variable.shape, 'float32');
      variable.assign(next);
      next.dispose();
    }
  }

  /** The momentum buffers as weights (for checkpoints). */
  state(variables: ReadonlyMap<WeightName, tf.Variable>): Weights {
    const out: Record<WeightName, Weight> = {};
    for (const [name, buf] of this.restored)
      out[name] = { shape: variables.get(name)?.shape ?? [buf.length], data: Float32Array.from(buf) };
    for (const name of this.updated) {
      const buf = this.buffers.get(name) as Float32Array;
      out[name] = { shape: variables.get(name)?.shape ?? [buf.length], data: Float32Array.from(buf) };
    }
    return out;
  }

  /** Restores buffers saved by state(). */
  load(state: Weights): void {
    this.dispose();
    for (const [name, w] of Object.entries(state)) this.restored.set(name, Float32Array.from(w.data));
  }

  dispose(): void {
    this.buffers = new Map();
    this.restored = new Map();
    this.updated.clear();
  }
}

/** The learning rate of `epoch` (0-based): base divided by 10 at each milestone fraction passed. */
export function learningRate(base: number, epoch: number, epochs: number, milestones: readonly number[], decay = 0.1): number {
  const passed = milestones.filter((m) => epoch >= m * epochs).length;
  // Rounded so that 0.1 / 10 prints as 0.01, not 0.010000000000000002.
  return Number((base * decay ** passed).toPrecision(12));
}
