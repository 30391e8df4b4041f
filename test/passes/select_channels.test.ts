// Channel selection (pure: no backend): the official threshold rule and its options.
import { describe, expect, it } from 'vitest';
import { batchNorm, conv2d, dense, flatten, globalAvgPool, model, relu } from '../../src/frontends/dsl.ts';
import { SlimcError } from '../../src/ir/errors.ts';
import type { Graph, Weight } from '../../src/ir/types.ts';
import { keptCount } from '../../src/passes/masks.ts';
import { masksFromJson, selectChannels, thresholdOf } from '../../src/passes/select_channels.ts';

/** Two conv-BN-ReLU layers whose gammas are given. */
function twoLayers(g1: number[], g2: number[]): Graph {
  const base = model('two', { input: [4, 4, 2] }, (x) => {
    const h = relu(batchNorm(conv2d(x, g1.length), { name: 'bn1' }));
    const k = relu(batchNorm(conv2d(h, g2.length), { name: 'bn2' }));
    return dense(flatten(globalAvgPool(k)), 3);
  });
  const vec = (v: number[]): Weight => ({ shape: [v.length], data: Float32Array.from(v) });
  return { ...base, weights: { ...base.weights, 'bn1.gamma': vec(g1), 'bn2.gamma': vec(g2) } };
}

describe('selectChannels', () => {
  const g = twoLayers([0.9, -0.01, 0.5, 0.02], [0.3, 0.001, -0.7, 0.04, 0.6, 0.05]);

  it('uses the value at floor(ratio * total) of the sorted |gamma| and keeps |gamma| > threshold', () => {
    // sorted |gamma|: 0.001 0.01 0.02 0.04 0.05 0.3 0.5 0.6 0.7 0.9; floor(0.4 * 10) = 4 -> 0.05
    const s = selectChannels(g, { ratio: 0.4 });
    expect(s.threshold).toBeCloseTo(0.05, 6);
    expect(s.masks.bn1).toEqual([true, false, true, false]);
    expect(s.masks.bn2).toEqual([true, false, true, false, true, false]);
    expect(thresholdOf(Float64Array.from([3, 1, 2]), 0.5)).toBe(2);
  });

  it('keeps everything at ratio 0', () => {
    const s = selectChannels(g, { ratio: 0 });
    expect(Object.values(s.masks).every((m) => m.every(Boolean))).toBe(true);
  });

  it('thresholds each layer by itself in per-layer mode', () => {
    const s = selectChannels(g, { ratio: 0.5, perLayer: true });
    // bn1 sorted 0.01 0.02 0.5 0.9 -> index 2 -> 0.5: keeps 0.9 only; bn2 index 3 of 6 -> 0.3
    expect(s.masks.bn1).toEqual([true, false, false, false]);
    expect(s.masks.bn2).toEqual([false, false, true, false, true, false]);
  });

  it('holds layers at the minimum channel count and the per-layer cap, keeping the largest |gamma|', () => {
    const min = selectChannels(g, { ratio: 0.8, minChannels: 2 });
    expect(min.masks.bn1).toEqual([true, false, true, false]);
    expect(min.layers.find((l) => l.name === 'bn1')?.heldBy).toBe('min-channels');
    const capped = selectChannels(g, { ratio: 0.8, maxLayerRatio: 0.5 });
    expect(keptCount(capped.masks.bn2)).toBe(3);
    expect(capped.masks.bn2).toEqual([true, false, true, false, true, false]);
  });

  it('rounds each kept count up to a multiple of --round-channels with the next-largest |gamma|, never past the layer', () => {
    // ratio 0.4 keeps bn1 {0.9, 0.5} and bn2 {0.3, -0.7, 0.6}; rounded to 4, bn1 keeps all 4 and
    // bn2 adds 0.05, its largest dropped |gamma|.
    const s = selectChannels(g, { ratio: 0.4, roundChannels: 4 });
    expect(s.masks.bn1).toEqual([true, true, true, true]);
    expect(s.masks.bn2).toEqual([true, false, true, false, true, true]);
    expect(s.layers.map((l) => [l.kept, l.heldBy])).toEqual([
      [4, 'round-channels'],
      [4, 'round-channels'],
    ]);
    // A layer that keeps nothing stays dead; a count already a multiple is left alone.
    const dead = selectChannels(twoLayers([0.001, 0.002], [0.5, 0.6, 0.7, 0.8]), { ratio: 0.2, roundChannels: 2 });
    expect(dead.masks.bn1).toEqual([false, false]);
    expect(dead.layers[1].heldBy).toBeUndefined();
    expect(() => selectChannels(g, { ratio: 0.4, roundChannels: 0 })).toThrow(/--round-channels/);
    expect(() => selectChannels(g, { ratio: 0.4, roundChannels: 2.5 })).toThrow(/whole number/);
  });

  it('leaves excluded layers whole and out of the ranking', () => {
    const s = selectChannels(g, { ratio: 0.5, exclude: ['bn*1'] });
    expect(s.masks.bn1.every(Boolean)).toBe(true);
    // ranking over bn2 only: sorted 0.001 0.04 0.05 0.3 0.6 0.7, index 3 -> 0.3
    expect(s.masks.bn2).toEqual([false, false, true, false, true, false]);
  });

  it('rejects ratios outside [0, 1) and graphs without BatchNorm', () => {
    expect(() => selectChannels(g, { ratio: 1 })).toThrow(/\[0, 1\)/);
    expect(() => selectChannels(g, { ratio: -0.1 })).toThrow(SlimcError);
    expect(() => selectChannels(g, { ratio: Number.NaN })).toThrow(SlimcError);
    const noBn = model('plain', { input: [4, 4, 1] }, (x) => dense(flatten(conv2d(x, 2)), 2));
    expect(() => selectChannels(noBn, { ratio: 0.5 })).toThrow(/no BatchNorm/);
  });
});

describe('masksFromJson', () => {
  const g = twoLayers([1, 1], [1, 1, 1]);
  it('reads 0/1 and boolean arrays and keeps unnamed layers whole', () => {
    const m = masksFromJson(g, { bn1: [1, 0] }, 'm.json');
    expect(m).toEqual({ bn1: [true, false], bn2: [true, true, true] });
    expect(masksFromJson(g, { bn2: [false, true, false] }, 'm.json').bn2).toEqual([false, true, false]);
  });
  it('names the file and the problem for unknown layers, wrong lengths and bad values', () => {
    expect(() => masksFromJson(g, { bn9: [1] }, 'm.json')).toThrow(/m\.json: .*"bn9".*does not have/);
    expect(() => masksFromJson(g, { bn1: [1, 0, 1] }, 'm.json')).toThrow(/3 entries, but the layer has 2 channels/);
    expect(() => masksFromJson(g, { bn1: [1, 2] }, 'm.json')).toThrow(/0\/1/);
    expect(() => masksFromJson(g, [1, 0], 'm.json')).toThrow(/one JSON object/);
  });
});

describe('selection warnings', () => {
  it('warns when many channels tie at the threshold (a model that was never sparsity-trained)', () => {
    const untrained = twoLayers([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.4, 0.5, 0.5]);
    expect(selectChannels(untrained, { ratio: 0.5 }).warnings[0]).toMatch(/9 of 10 channels have \|gamma\| equal to the threshold 0\.5/);
    const trained = twoLayers([0.9, -0.01, 0.5, 0.02], [0.3, 0.001, -0.7, 0.04, 0.6, 0.05]);
    expect(selectChannels(trained, { ratio: 0.5 }).warnings).toEqual([]);
  });
});
