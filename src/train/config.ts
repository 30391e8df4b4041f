// Training hyperparameters. Defaults are the Network Slimming paper's CIFAR recipe: SGD with
// Nesterov momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at 50% and 75% of the epochs,
// batch 64. Sparsity lambda is 0 (plain training); the paper uses 1e-4 for VGG and 1e-5 for
// ResNet and DenseNet.
import { SlimcError } from '../ir/errors.ts';

export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  /** Fractions of `epochs` at which the learning rate is divided by 10. */
  readonly milestones: readonly number[];
  /** L1 sparsity lambda on prunable BN gammas (0: plain training). */
  readonly sparsity: number;
  /** BN names or globs left out of the sparsity penalty (as pruning's --exclude). */
  readonly sparsityExclude: readonly string[];
  /** Seeds the shuffling: the same seed gives the same batches. */
  readonly seed: number;
  /** Stop after this many steps in total: a budget for tests and quick looks. */
  readonly maxSteps?: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 160,
  batchSize: 64,
  lr: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 1e-4,
  milestones: [0.5, 0.75],
  sparsity: 0,
  sparsityExclude: [],
  seed: 1,
};

/** Beyond this, a batch's activations alone outgrow memory for any model worth training. */
export const MAX_BATCH_SIZE = 65_536;

/** Defaults filled in and every value checked; errors name the option. */
export function trainConfig(given: Partial<TrainConfig> = {}): TrainConfig {
  const c: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const check = (ok: boolean, option: string, message: string) => {
    if (!ok) throw new SlimcError(message, option);
  };
  check(Number.isInteger(c.epochs) && c.epochs >= 1, '--epochs', `must be a whole number >= 1, got ${c.epochs}`);
  check(
    Number.isInteger(c.batchSize) && c.batchSize >= 2,
    '--batch-size',
    `must be a whole number >= 2 (BatchNorm needs batch statistics), got ${c.batchSize}`,
  );
  check(
    c.batchSize <= MAX_BATCH_SIZE,
    '--batch-size',
    `must be at most ${MAX_BATCH_SIZE}, got ${c.batchSize} (a batch is held in memory with its activations and gradients)`,
  );
  check(c.lr > 0 && Number.isFinite(c.lr), '--lr', `must be a positive number, got ${c.lr}`);
  check(c.momentum >= 0 && c.momentum < 1, '--momentum', `must be in [0, 1), got ${c.momentum}`);
  check(!c.nesterov || c.momentum > 0, '--nesterov', 'Nesterov momentum needs momentum > 0');
  check(c.weightDecay >= 0 && Number.isFinite(c.weightDecay), '--weight-decay', `must be >= 0, got ${c.weightDecay}`);
  check(
    c.milestones.every((m) => m > 0 && m < 1),
    '--milestones',
    `fractions of the epochs must be in (0, 1), got ${c.milestones.join(',')}`,
  );
  check(c.sparsity >= 0 && Number.isFinite(c.sparsity), '--sparsity', `lambda must be >= 0, got ${c.sparsity}`);
  check(Number.isInteger(c.seed), '--seed', `must be a whole number, got ${c.seed}`);
  check(
    c.maxSteps === undefined || (Number.isInteger(c.maxSteps) && c.maxSteps >= 1),
    '--max-steps',
    `must be a whole number >= 1, got ${c.maxSteps}`,
  );
  return c;
}
