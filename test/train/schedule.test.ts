// Pure pieces of training, no backend: the learning-rate schedule, the seeded epoch order,
// checkpoint naming, config checks and the ratio read off a |gamma| distribution.
import { describe, expect, it } from 'vitest';
import { checkpointName, type TrainingState } from '../../src/train/checkpoint.ts';
import { DEFAULT_TRAIN_CONFIG, trainConfig } from '../../src/train/config.ts';
import { learningRate } from '../../src/train/optimizer.ts';
import { ratioFromGammas } from '../../src/train/slimming.ts';
import { checkBatchFits, epochOrder } from '../../src/train/trainer.ts';
import mnistVgg from '../../examples/mnist/model.ts';

describe('learning rate', () => {
  it('is divided by 10 at 50% and 75% of the epochs (the paper: epochs 80 and 120 of 160)', () => {
    const at = (epoch: number) => learningRate(0.1, epoch, 160, [0.5, 0.75]);
    expect([at(0), at(79), at(80), at(119), at(120), at(159)]).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  });
});

describe('epoch order', () => {
  it('is a permutation fixed by seed and epoch, different across epochs and seeds', () => {
    const a = epochOrder(1, 0, 100);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochOrder(1, 0, 100)).toEqual(a);
    expect(epochOrder(1, 1, 100)).not.toEqual(a);
    expect(epochOrder(2, 0, 100)).not.toEqual(a);
  });
});

describe('checkpoint names', () => {
  const state = (step: number) => ({ step, stepsPerEpoch: 125 }) as TrainingState;
  it('name whole epochs, and the step inside an epoch; they sort in training order', () => {
    const names = [state(250), state(125), state(412), state(375)].map(checkpointName);
    expect(names).toEqual(['epoch-002', 'epoch-001', 'epoch-003-step-000412', 'epoch-003']);
    expect([...names].sort()).toEqual(['epoch-001', 'epoch-002', 'epoch-003', 'epoch-003-step-000412']);
  });
});

describe('trainConfig', () => {
  it('fills in the paper defaults and names the option at fault', () => {
    expect(trainConfig({ epochs: 3 })).toEqual({ ...DEFAULT_TRAIN_CONFIG, epochs: 3 });
    expect(() => trainConfig({ batchSize: 1 })).toThrow(/--batch-size: must be a whole number >= 2/);
    expect(() => trainConfig({ lr: -1 })).toThrow(/--lr: must be a positive number/);
    expect(() => trainConfig({ sparsity: Number.NaN })).toThrow(/--sparsity/);
    expect(() => trainConfig({ milestones: [1.5] })).toThrow(/--milestones/);
  });

  it('refuses a batch that cannot fit in memory before any is allocated, naming the largest that fits', () => {
    expect(() => trainConfig({ batchSize: 1e12 })).toThrow(/--batch-size: must be at most 65536, got 1000000000000/);
    const graph = mnistVgg();
    expect(() => checkBatchFits(graph, 64)).not.toThrow();
    expect(() => checkBatchFits(graph, 60_000)).toThrow(
      /--batch-size: a batch of 60000 needs about \S+ GiB .* the largest batch that fits is \d+/,
    );
  });
});

describe('ratioFromGammas', () => {
  it('cuts at the gap between the near-zero cluster and the rest', () => {
    const gammas = [...Array.from({ length: 30 }, (_, i) => 1e-4 * (i + 1)), ...Array.from({ length: 70 }, (_, i) => 0.2 + 0.01 * i)];
    expect(ratioFromGammas(gammas)).toBeCloseTo(0.3, 10);
  });
  it('stays within 10%..90% of the channels', () => {
    const gammas = [1e-6, ...Array.from({ length: 99 }, () => 0.5)];
    const r = ratioFromGammas(gammas);
    expect(r).toBeGreaterThanOrEqual(0.1);
    expect(r).toBeLessThanOrEqual(0.9);
  });
});
