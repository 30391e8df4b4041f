// `slimc train`, `slimc finetune` and `slimc slim`: training on real data.
//
//   slimc train <model> --data mnist --sparsity 1e-4 --epochs N -o ckpt/     sparsity training
//   slimc finetune <pruned.slim> --data mnist --epochs N -o ckpt/            fine-tune a pruned model
//   slimc slim <model> --data mnist --ratio 0.5 --passes K -o out/           the whole cycle, K times
//
// Checkpoints are written every epoch (ckpt/epoch-NNN/model.slim + weights, resumable with
// --resume). Ctrl-C finishes the step in flight, writes a checkpoint and stops; a second Ctrl-C
// stops at once (the checkpoint files are written atomically either way).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SlimcError } from '../../ir/errors.ts';
import { writeSlimModel } from '../../ir/model_files.ts';
import { readCheckpoint } from '../../train/checkpoint.ts';
import { writeFileAtomically } from '../../util/atomic_write.ts';
import { importUserModule } from '../../util/import_user_module.ts';
import { trainConfig, type TrainConfig } from '../../train/config.ts';
import { imageDataset, type ImageDataset, type ImageDatasetInput } from '../../train/data.ts';
import { evaluate } from '../../train/evaluate.ts';
import { loadFashionMnist } from '../../train/fashion_mnist.ts';
import { loadIdxDataset } from '../../train/idx.ts';
import { loadMnist } from '../../train/mnist.ts';
import { absGammas, gammaHistogramSvg, keptChannelsSvg } from '../../train/plots.ts';
import { prepareTraining } from '../../train/setup.ts';
import { finetune, slimCycle } from '../../train/slimming.ts';
import { train, type TrainHooks, type TrainResult } from '../../train/trainer.ts';
import { StoppedByUser } from '../interrupted.ts';
import { parseNumber, WEIGHTS_HELP } from '../common_options.ts';
import { loadModel } from '../load_model.ts';
import { slimReportText } from '../report_text.ts';
import { addSlimmingOptions, parseRatio, slimOptionsFrom, type SlimmingFlags } from '../slimming_options.ts';
import { progressDisplay, type ProgressDisplay } from './train_progress.ts';

interface TrainingFlags {
  readonly data: string;
  readonly output: string;
  readonly weights?: string;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly momentum?: number;
  readonly nesterov: boolean;
  readonly weightDecay?: number;
  readonly milestones?: number[];
  readonly seed?: number;
  readonly maxSteps?: number;
  readonly resume?: boolean;
  readonly keep: number;
  readonly backend: 'wasm' | 'cpu';
}

const fractions = (value: string) => value.split(',').map((v) => parseNumber('--milestones')(v));

function addTrainingOptions(cmd: Command, defaultEpochs: string): Command {
  return cmd
    .requiredOption(
      '--data <name|module>',
      "training data: 'mnist', 'fashion-mnist' (Debian's dataset-fashion-mnist), 'idx:DIR' (MNIST-layout IDX files, gzipped or not), or a .ts/.js module whose default export is an ImageDatasetInput (or a function returning one)",
    )
    .requiredOption('-o, --output <dir>', 'checkpoint directory (epoch-NNN/ per epoch, latest.json)')
    .option('--weights <file>', WEIGHTS_HELP)
    .addOption(new Option('--epochs <n>', `epochs (default ${defaultEpochs})`).argParser(parseNumber('--epochs')))
    .addOption(new Option('--batch-size <n>', 'samples per step (default 64)').argParser(parseNumber('--batch-size')))
    .addOption(new Option('--lr <x>', 'learning rate, divided by 10 at each milestone (default 0.1)').argParser(parseNumber('--lr')))
    .addOption(new Option('--momentum <x>', 'SGD momentum (default 0.9)').argParser(parseNumber('--momentum')))
    .option('--no-nesterov', 'plain momentum instead of Nesterov')
    .addOption(new Option('--weight-decay <x>', 'L2 weight decay (default 1e-4)').argParser(parseNumber('--weight-decay')))
    .addOption(new Option('--milestones <f,...>', 'fractions of the epochs where lr drops 10x (default 0.5,0.75)').argParser(fractions))
    .addOption(
      new Option('--seed <n>', 'shuffling seed: the same seed gives the same batches (default 1)').argParser(parseNumber('--seed')),
    )
    .addOption(new Option('--max-steps <n>', 'stop after this many steps (a quick look)').argParser(parseNumber('--max-steps')))
    .option('--resume', 'continue from the latest checkpoint in the output directory')
    .addOption(new Option('--keep <n>', 'keep the newest n epoch checkpoints (0: all)').argParser(parseNumber('--keep')).default(3))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'));
}

function configFrom(flags: TrainingFlags, extra: Partial<TrainConfig>, defaultEpochs: number): TrainConfig {
  return trainConfig({
    epochs: flags.epochs ?? defaultEpochs,
    batchSize: flags.batchSize,
    lr: flags.lr,
    momentum: flags.momentum,
    nesterov: flags.nesterov,
    weightDecay: flags.weightDecay,
    milestones: flags.milestones,
    seed: flags.seed,
    maxSteps: flags.maxSteps,
    ...extra,
  });
}

/** 'mnist', 'fashion-mnist', 'idx:DIR', or a module whose default export is the data (or a function giving it). */
export async function loadData(spec: string): Promise<ImageDataset> {
  if (spec === 'mnist') return loadMnist();
  if (spec === 'fashion-mnist') return loadFashionMnist();
  if (spec.startsWith('idx:')) {
    const dir = spec.slice('idx:'.length);
    if (dir === '') throw new SlimcError('idx: needs a directory, as in idx:data/fashion', '--data');
    return loadIdxDataset(resolve(process.cwd(), dir), spec);
  }
  if (!/\.(ts|mts|js|mjs)$/.test(spec))
    throw new SlimcError(`unknown data '${spec}': use mnist, fashion-mnist, idx:DIR or a .ts/.js module`, '--data');
  let exported: unknown;
  try {
    const module = await importUserModule(spec);
    exported = typeof module.default === 'function' ? await (module.default as () => unknown)() : module.default;
  } catch (e) {
    throw new SlimcError(`loading the data module failed: ${e instanceof Error ? e.message : String(e)}`, spec);
  }
  if (typeof exported !== 'object' || exported === null)
    throw new SlimcError('the default export is not a dataset ({name, sampleShape, classes, train, test})', spec);
  return imageDataset(exported as ImageDatasetInput);
}

/** Ctrl-C: the first asks the loop to stop after its step, the second exits at once. */
function interruptible(display: ProgressDisplay): { shouldStop: () => boolean; release: () => void } {
  let stop = false;
  const onSigint = () => {
    if (stop) {
      display.stop();
      process.stderr.write('\nslimc: stopped; no checkpoint of this step was written\n');
      process.exit(130);
    }
    stop = true;
    display.note('\nslimc: stopping after this step and writing a checkpoint (Ctrl-C again to stop at once)');
  };
  process.on('SIGINT', onSigint);
  return { shouldStop: () => stop, release: () => process.off('SIGINT', onSigint) };
}

interface Session {
  readonly display: ProgressDisplay;
  readonly hooks: (phase: string) => Pick<TrainHooks, 'onStep' | 'onEpoch' | 'shouldStop' | 'keepCheckpoints'>;
  readonly release: () => void;
}

async function session(flags: TrainingFlags): Promise<Session> {
  const info = await prepareTraining(flags.backend);
  const display = progressDisplay();
  display.note(`slimc: training on ${info.variant}${info.threads > 1 ? ` with ${info.threads} threads` : ''}`);
  const { shouldStop, release } = interruptible(display);
  const keepCheckpoints = flags.keep > 0 ? flags.keep : undefined;
  return { display, hooks: (phase) => ({ ...display.hooks(phase), shouldStop, keepCheckpoints }), release };
}

function finish(result: TrainResult, flags: TrainingFlags, command: string): void {
  if (result.status === 'interrupted') {
    throw new StoppedByUser(
      `stopped at step ${result.step}; checkpoint ${result.checkpoint ?? '(none)'}. Continue with: npx slimc ${command} ... -o ${flags.output} --resume`,
    );
  }
}

async function runTraining(
  model: string,
  flags: TrainingFlags,
  phase: string,
  extra: Partial<TrainConfig>,
  defaultEpochs: number,
  command: string,
) {
  const data = await loadData(flags.data);
  const config = configFrom(flags, extra, defaultEpochs);
  const graph = await loadModel(model, { weights: flags.weights });
  const resume = flags.resume ? await readCheckpoint(flags.output) : undefined;
  const s = await session(flags);
  try {
    const run = phase === 'finetune' ? finetune : train;
    const result = await run(graph, data, config, { ...s.hooks(phase), phase, checkpointDir: flags.output, resume });
    s.display.stop();
    finish(result, flags, command);
    const final = await writeSlimModel(join(flags.output, 'model.slim'), result.graph);
    await writeFile(join(flags.output, 'gamma.svg'), gammaHistogramSvg([{ label: `after ${phase}`, values: absGammas(result.graph) }]));
    const last = result.history.at(-1);
    process.stdout.write(
      `${result.status === 'budget' ? `stopped after --max-steps ${config.maxSteps}` : `trained ${config.epochs} epochs`}` +
        `${last ? `; test accuracy ${(100 * last.testAccuracy).toFixed(2)}%` : ''}\nwrote ${final.ir} and ${final.weights}\n`,
    );
  } finally {
    s.release();
  }
}

interface TrainFlags extends TrainingFlags {
  readonly sparsity?: number;
  readonly sparsityExclude?: string[];
}

export function trainCommand(cmd: Command): Command {
  cmd
    .addOption(
      new Option('--sparsity <lambda>', 'L1 penalty on BN gammas: 1e-4 for VGG, 1e-5 for ResNet/DenseNet (default 0)').argParser(
        parseNumber('--sparsity'),
      ),
    )
    .option('--sparsity-exclude <pattern...>', 'BN layers (names or globs) the penalty leaves alone');
  return addTrainingOptions(cmd, '160').action((model: string, flags: TrainFlags) =>
    runTraining(model, flags, 'train', { sparsity: flags.sparsity, sparsityExclude: flags.sparsityExclude }, 160, 'train'),
  );
}

export function finetuneCommand(cmd: Command): Command {
  return addTrainingOptions(cmd, '160').action((model: string, flags: TrainingFlags) =>
    runTraining(model, flags, 'finetune', {}, 160, 'finetune'),
  );
}

interface SlimFlags extends TrainFlags, SlimmingFlags {
  readonly ratio?: number;
  readonly passes: number;
  readonly finetuneEpochs?: number;
}

export function slimCommand(cmd: Command): Command {
  cmd
    .addOption(new Option('--ratio <r>', 'fraction of BN channels to drop in each pass, in [0, 1)').argParser(parseRatio))
    .addOption(
      new Option('--passes <k>', 'sparsity-train / prune / fine-tune cycles; with k > 1 each pass prunes at most 50% of a layer')
        .argParser(parseNumber('--passes'))
        .default(1),
    )
    .addOption(new Option('--sparsity <lambda>', 'L1 penalty on BN gammas (default 1e-4)').argParser(parseNumber('--sparsity')))
    .option('--sparsity-exclude <pattern...>', 'BN layers (names or globs) the penalty leaves alone')
    .addOption(
      new Option('--finetune-epochs <n>', 'fine-tuning epochs per pass (default: --epochs)').argParser(parseNumber('--finetune-epochs')),
    );
  return addSlimmingOptions(addTrainingOptions(cmd, '160')).action(async (model: string, flags: SlimFlags) => {
    if (flags.resume)
      throw new SlimcError('slim runs whole passes; resume a pass with slimc train/finetune on its checkpoint directory', '--resume');
    if (flags.masks !== undefined && flags.passes > 1)
      throw new SlimcError('a masks file fixes one pruning; it cannot drive several passes', '--masks');
    const data = await loadData(flags.data);
    const graph = await loadModel(model, { weights: flags.weights });
    const selection = await slimOptionsFrom(graph, flags.ratio, flags);
    const sparsityTraining = configFrom(flags, { sparsity: flags.sparsity ?? 1e-4, sparsityExclude: flags.sparsityExclude }, 160);
    const finetuning = configFrom(flags, { epochs: flags.finetuneEpochs ?? sparsityTraining.epochs }, 160);
    await mkdir(flags.output, { recursive: true });
    const s = await session(flags);
    try {
      const result = await slimCycle(graph, data, {
        passes: flags.passes,
        selection,
        sparsityTraining,
        finetuning,
        checkpointDir: flags.output,
        hooks: s.hooks,
        onPruned: async (pass, slim, trained, input) => {
          s.display.note(slimReportText(slim.report));
          const dir = join(flags.output, `pass-${pass}`);
          await mkdir(dir, { recursive: true });
          await writeFileAtomically(
            join(dir, 'gamma.svg'),
            gammaHistogramSvg([
              { label: `pass ${pass} input`, values: absGammas(input) },
              { label: `after sparsity training, pass ${pass}`, values: absGammas(trained) },
            ]),
            'the gamma histogram',
          );
          await writeFileAtomically(
            join(dir, 'kept.svg'),
            keptChannelsSvg(slim.report.channels.map((c) => ({ name: c.name, before: c.before, after: c.after }))),
            'the kept-channels chart',
          );
        },
      });
      s.display.stop();
      if (result.status === 'interrupted')
        throw new StoppedByUser(`stopped; the checkpoints of each phase are under ${flags.output}/pass-*/`);
      for (const p of result.passes) {
        const count = (n: number) => n.toLocaleString('en-US');
        const tuned = evaluate(p.finetuned.graph, data.test).accuracy;
        process.stdout.write(
          `pass ${p.pass}: params ${count(p.slim.report.before.params)} -> ${count(p.slim.report.after.params)}, ` +
            `test accuracy ${(100 * p.prunedAccuracy).toFixed(2)}% pruned, ${(100 * tuned).toFixed(2)}% fine-tuned\n`,
        );
      }
      const final = await writeSlimModel(join(flags.output, 'model.slim'), result.graph);
      process.stdout.write(`wrote ${final.ir} and ${final.weights}\n`);
    } finally {
      s.release();
    }
  });
}
