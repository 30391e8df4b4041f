// Network Slimming channel selection: which BatchNorm channels to keep, from |gamma|.
//
// Global rule (the official implementation's): collect |gamma| of every prunable BN, sort
// ascending, threshold = the value at index floor(ratio * total), keep a channel iff
// |gamma| > threshold. Ratio 0 keeps everything (the official rule would still drop the
// smallest channel and its ties). Per-layer mode applies the same rule inside each layer.
// Afterwards each layer is held to its limits: at least `minChannels` kept and at most
// `maxLayerRatio` of its channels dropped (the paper caps multi-pass runs at 50%); a layer
// raised to a limit keeps its largest |gamma|. With `roundChannels` N, a layer that keeps some
// channels keeps the next-largest |gamma| up to a multiple of N (opt-in): kernels compute output
// channels in SIMD vectors and tiles (4 per vector in slimc's convs, 8 per tile in XNNPACK's), so
// 9-11 channels cost their conv what 12 do; the layers reading them pay per input channel.
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames } from '../ir/node.ts';
import type { BatchNormNode, Graph } from '../ir/types.ts';
import { batchNorms, type ChannelMasks } from './masks.ts';

export interface SelectionOptions {
  /** Fraction of channels to drop, in [0, 1). */
  readonly ratio: number;
  /** Threshold each layer by its own |gamma| instead of the global ranking. */
  readonly perLayer?: boolean;
  /** Each layer keeps at least this many channels (default 0: a layer may die). */
  readonly minChannels?: number;
  /** At most this fraction of a layer's channels is dropped, in (0, 1]. Default 1. */
  readonly maxLayerRatio?: number;
  /** BN names or glob patterns (`*` matches any run of characters) to leave whole. */
  readonly exclude?: readonly string[];
  /** Each layer that keeps channels keeps a multiple of this many (or all), 1-64. Default 1. */
  readonly roundChannels?: number;
}

export interface LayerSelection {
  readonly name: string;
  readonly channels: number;
  readonly kept: number;
  /** The threshold this layer was cut at (the global one unless perLayer). */
  readonly threshold: number;
  /** Why the count differs from the plain threshold rule, if it does. */
  readonly heldBy?: 'min-channels' | 'max-layer-ratio' | 'excluded' | 'round-channels';
}

export interface Selection {
  readonly masks: ChannelMasks;
  /** The global threshold (NaN in per-layer mode or when nothing is prunable). */
  readonly threshold: number;
  readonly layers: readonly LayerSelection[];
  /** Things a user should know, e.g. that many channels tie at the threshold. */
  readonly warnings: readonly string[];
}

export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function validateSelectionOptions(opts: SelectionOptions): void {
  if (!(opts.ratio >= 0 && opts.ratio < 1)) {
    throw new SlimcError(`the pruning ratio must be in [0, 1), got ${opts.ratio}`, '--ratio');
  }
  if (opts.minChannels !== undefined && !(Number.isInteger(opts.minChannels) && opts.minChannels >= 0)) {
    throw new SlimcError(`the minimum channel count must be a whole number >= 0, got ${opts.minChannels}`, '--min-channels');
  }
  if (opts.maxLayerRatio !== undefined && !(opts.maxLayerRatio > 0 && opts.maxLayerRatio <= 1)) {
    throw new SlimcError(`the per-layer cap must be in (0, 1], got ${opts.maxLayerRatio}`, '--max-layer-ratio');
  }
  const round = opts.roundChannels;
  if (round !== undefined && !(Number.isInteger(round) && round >= 1 && round <= 64)) {
    throw new SlimcError(`the channel rounding must be a whole number from 1 to 64, got ${round}`, '--round-channels');
  }
}

/** Threshold at index floor(ratio * n) of the ascending values (the official rule). */
export function thresholdOf(absGammas: Float64Array, ratio: number): number {
  const sorted = Float64Array.from(absGammas).sort();
  return sorted[Math.min(Math.floor(ratio * sorted.length), sorted.length - 1)];
}

const absGamma = (graph: Graph, bn: BatchNormNode) => Float64Array.from(graph.weights[bnWeightNames(bn.params).gamma].data, Math.abs);

/** Keeps the `count` channels of largest |gamma| (ties broken by lower index). */
function keepLargest(abs: Float64Array, count: number): boolean[] {
  const order = Array.from(abs.keys()).sort((a, b) => abs[b] - abs[a] || a - b);
  const keep = new Array<boolean>(abs.length).fill(false);
  for (const c of order.slice(0, count)) keep[c] = true;
  return keep;
}

export function selectChannels(graph: Graph, opts: SelectionOptions): Selection {
  validateSelectionOptions(opts);
  const bns = batchNorms(graph);
  if (bns.length === 0) {
    throw new SlimcError('the graph has no BatchNorm layer, so Network Slimming has no scaling factors to rank', graph.name);
  }
  const excluded = (opts.exclude ?? []).map(globToRegExp);
  const isExcluded = (bn: BatchNormNode) => excluded.some((re) => re.test(bn.params));
  const prunable = bns.filter((bn) => !isExcluded(bn));
  const gammas = new Map(bns.map((bn) => [bn.params, absGamma(graph, bn)]));

  const all = new Float64Array(prunable.reduce((s, bn) => s + (gammas.get(bn.params)?.length ?? 0), 0));
  let offset = 0;
  for (const bn of prunable) {
    const g = gammas.get(bn.params) as Float64Array;
    all.set(g, offset);
    offset += g.length;
  }
  const prunes = opts.ratio > 0 && all.length > 0;
  const globalThreshold = prunes && !opts.perLayer ? thresholdOf(all, opts.ratio) : Number.NaN;

  const masks: Record<string, readonly boolean[]> = {};
  const layers: LayerSelection[] = [];
  for (const bn of bns) {
    const abs = gammas.get(bn.params) as Float64Array;
    const channels = abs.length;
    if (isExcluded(bn) || !prunes) {
      masks[bn.params] = new Array<boolean>(channels).fill(true);
      layers.push({
        name: bn.params,
        channels,
        kept: channels,
        threshold: globalThreshold,
        ...(isExcluded(bn) ? { heldBy: 'excluded' as const } : {}),
      });
      continue;
    }
    const threshold = opts.perLayer ? thresholdOf(abs, opts.ratio) : globalThreshold;
    let keep = Array.from(abs, (g) => g > threshold);
    let kept = keep.filter(Boolean).length;
    let heldBy: LayerSelection['heldBy'];
    const floor = Math.max(Math.min(opts.minChannels ?? 0, channels), channels - Math.floor((opts.maxLayerRatio ?? 1) * channels));
    if (kept < floor) {
      heldBy = floor === Math.min(opts.minChannels ?? 0, channels) ? 'min-channels' : 'max-layer-ratio';
      keep = keepLargest(abs, floor);
      kept = floor;
    }
    const round = opts.roundChannels ?? 1;
    const rounded = Math.min(channels, Math.ceil(kept / round) * round);
    if (kept > 0 && rounded > kept) {
      heldBy ??= 'round-channels';
      keep = keepLargest(abs, rounded);
      kept = rounded;
    }
    masks[bn.params] = keep;
    layers.push({ name: bn.params, channels, kept, threshold, ...(heldBy ? { heldBy } : {}) });
  }
  return { masks, threshold: globalThreshold, layers, warnings: tieWarnings(all, globalThreshold) };
}

/**
 * Many |gamma| equal to the threshold all fall on the dropped side of `>`: a model that was never
 * sparsity-trained (every gamma still at its initial value) loses far more than `ratio`.
 */
function tieWarnings(all: Float64Array, threshold: number): string[] {
  if (Number.isNaN(threshold)) return [];
  const ties = all.reduce((n, g) => n + (g === threshold ? 1 : 0), 0);
  if (ties <= Math.max(1, 0.01 * all.length)) return [];
  return [
    `${ties} of ${all.length} channels have |gamma| equal to the threshold ${threshold} and are all dropped; ` +
      'the model does not look sparsity-trained (train with an L1 penalty on gamma first, see slimc train)',
  ];
}

/**
 * Masks given explicitly (a masks file): { "<bn name>": [1, 0, ...] | [true, false, ...] }.
 * Layers not named keep every channel. Unknown names and wrong lengths are errors.
 */
export function masksFromJson(graph: Graph, json: unknown, source: string): ChannelMasks {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SlimcError('a masks file must hold one JSON object mapping BatchNorm names to arrays of 0/1', source);
  }
  const bns = new Map(batchNorms(graph).map((bn) => [bn.params, bn]));
  const masks: Record<string, readonly boolean[]> = {};
  for (const bn of bns.values()) masks[bn.params] = new Array<boolean>(bn.type.shape[bn.type.shape.length - 1]).fill(true);
  for (const [name, value] of Object.entries(json)) {
    const bn = bns.get(name);
    if (!bn) {
      const known = [...bns.keys()];
      throw new SlimcError(
        `names BatchNorm "${name}", which the model does not have (it has ${known.length}: ${known.slice(0, 6).join(', ')}${known.length > 6 ? ', ...' : ''})`,
        source,
      );
    }
    const channels = bn.type.shape[bn.type.shape.length - 1];
    if (!Array.isArray(value) || value.some((v) => v !== 0 && v !== 1 && v !== true && v !== false)) {
      throw new SlimcError(`the mask of "${name}" must be an array of 0/1 or true/false`, source);
    }
    if (value.length !== channels) {
      throw new SlimcError(`the mask of "${name}" has ${value.length} entries, but the layer has ${channels} channels`, source);
    }
    masks[name] = value.map((v) => v === 1 || v === true);
  }
  return masks;
}
