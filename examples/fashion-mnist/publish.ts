// What a finished protocol run leaves for readers: results.json (every stage: accuracy of the
// compiled module, params, MACs, time), results.md (the same as a table), the |gamma|
// histograms and kept-channel charts, and the baseline and pruned models with their weights.
import { mkdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeSlimModel } from '../../src/ir/model_files.ts';
import { absGammas, gammaHistogramSvg, keptChannelsSvg } from '../../src/train/plots.ts';
import { writeFileAtomically } from '../../src/util/atomic_write.ts';
import { sparsityStage, type ProtocolResult, type StageRecord } from './protocol.ts';

/** The bar: at most a third of the baseline's params, within 0.5 points of its accuracy. */
export const TARGET = { maxParamsFraction: 1 / 3, maxAccuracyDrop: 0.005 } as const;

/**
 * The model shipped as pruned.slim: the smallest fine-tuned pruned model within 0.5 points of
 * the baseline, else the most accurate pruned model.
 */
export function choosePruned(stages: readonly StageRecord[]): StageRecord {
  const baseline = stages.find((s) => s.stage === 'baseline') as StageRecord;
  const pruned = stages.filter((s) => s.ratio !== undefined);
  const close = pruned.filter((s) => s.accuracy >= baseline.accuracy - TARGET.maxAccuracyDrop).sort((a, b) => a.params - b.params);
  return close[0] ?? [...pruned].sort((a, b) => b.accuracy - a.accuracy)[0];
}

const count = (n: number) => n.toLocaleString('en-US');
const percent = (x: number) => `${(100 * x).toFixed(2)}%`;
const duration = (seconds: number) => (seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`);

export function resultsTable(stages: readonly StageRecord[]): string {
  // A process running only some stages (--only) may not have the baseline: no ratios then.
  const base = stages.find((s) => s.stage === 'baseline');
  const smaller = (v: number, b: number | undefined) => (b === undefined || v === b ? '' : ` (${(b / v).toFixed(2)}x smaller)`);
  return [
    '| stage | what | test accuracy (compiled module) | before fine-tuning | params | MACs | training time |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...stages.map(
      (s) =>
        `| ${s.stage} | ${s.description} | ${percent(s.accuracy)} | ${s.prunedAccuracy === undefined ? '' : percent(s.prunedAccuracy)} | ` +
        `${count(s.params)}${smaller(s.params, base?.params)} | ${count(s.macs)}${smaller(s.macs, base?.macs)} | ${duration(s.seconds)} |`,
    ),
  ].join('\n');
}

export interface PublishInfo {
  readonly dataset: string;
  readonly trainImages: number;
  readonly testImages: number;
  readonly backend: string;
  readonly options: Record<string, unknown>;
}

/** Writes the results of a complete run into `dir`. */
export async function publish(result: ProtocolResult, dir: string, info: PublishInfo): Promise<StageRecord> {
  const stages = result.stages;
  const baseline = stages.find((s) => s.stage === 'baseline') as StageRecord;
  const pruned = choosePruned(stages);
  const met = pruned.params <= TARGET.maxParamsFraction * baseline.params && pruned.accuracy >= baseline.accuracy - TARGET.maxAccuracyDrop;
  await mkdir(dir, { recursive: true });
  const json = {
    ...info,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
    conventions:
      'accuracy: the compiled ES module (slimc compile) run on every test image; MACs: multiply-accumulates per image (1 MAC = 2 FLOPs); params: conv/dense weights and biases, BN gamma and beta; seconds: training time of the stage',
    stages: stages.map(({ history, ...s }) => ({ ...s, epochAccuracies: history.map((e) => e.testAccuracy) })),
    pruned: {
      stage: pruned.stage,
      paramsFraction: pruned.params / baseline.params,
      accuracyDrop: baseline.accuracy - pruned.accuracy,
      meetsTarget: met,
    },
    target: TARGET,
  };
  await writeFileAtomically(join(dir, 'results.json'), `${JSON.stringify(json, null, 2)}\n`, 'the results');
  await writeFileAtomically(join(dir, 'results.md'), `${resultsTable(stages)}\n`, 'the results table');
  const lambdaStages = stages.filter((s) => s.stage.startsWith('sparsity-'));
  await writeFileAtomically(
    join(dir, 'gamma.svg'),
    gammaHistogramSvg([
      { label: 'baseline', values: absGammas(result.graphs.get('baseline')!) },
      ...lambdaStages.map((s) => ({
        label: `sparsity training, lambda ${s.lambda}`,
        values: absGammas(result.graphs.get(sparsityStage(s.lambda!))!),
      })),
    ]),
    'the gamma histograms',
  );
  for (const s of stages) {
    if (!s.keptChannels) continue;
    await writeFileAtomically(
      join(dir, `kept-${s.stage}.svg`),
      keptChannelsSvg(s.keptChannels, `Channels kept per BN layer: ${s.stage}`),
      'the kept-channels chart',
    );
  }
  await writeSlimModel(join(dir, 'baseline.slim'), result.graphs.get('baseline')!);
  await writeSlimModel(join(dir, 'pruned.slim'), result.graphs.get(pruned.stage)!);
  return pruned;
}
