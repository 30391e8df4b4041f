// Network Slimming on Fashion-MNIST, the paper's protocol on the official 10,000 test images:
// baseline, sparsity training at several lambdas, pruning at 50% and 70% with fine-tuning, and
// a second prune + fine-tune pass. Resumable: every stage checkpoints each epoch, and --resume
// skips finished stages and continues the unfinished one. Ctrl-C stops after the step in flight
// with a checkpoint. When every stage is done it writes results.json, results.md, the plots and
// baseline.slim / pruned.slim into --publish (default: this directory).
//
//   npx tsx examples/fashion-mnist/run.ts [--resume] [--until STAGE] [--out DIR] [--publish DIR]
//       [--epochs 8] [--finetune-epochs 8] [--pass2-epochs 4] [--lambdas 5e-4,1e-3,3e-3]
//       [--prune-lambda 5e-4] [--ratios 0.5,0.7] [--pass2-ratio 0.5] [--batch-size 64]
//       [--data fashion-mnist | idx:DIR] [--only STAGE,...] [--tiny]
//
// --only runs just the named stages (reading back finished ones as sources), so that two
// processes can share one --out on two cores; a last run without it publishes.
// --tiny: 512 training and 256 test images, one epoch per stage; its results go under --out
// only (never into the published files): a check that the whole protocol runs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadData } from '../../src/cli/commands/train.ts';
import type { ImageDataset } from '../../src/train/data.ts';
import { takeFirst } from '../../src/train/data.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { writeFileAtomically } from '../../src/util/atomic_write.ts';
import fashionVgg from './model.ts';
import { runProtocol, stageNames, type ProtocolOptions } from './protocol.ts';
import { publish, resultsTable } from './publish.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunArguments {
  readonly argv: readonly string[];
  readonly log?: (line: string) => void;
  readonly shouldStop?: () => boolean;
}

const numbers = (text: string) => text.split(',').map(Number);

/** The script's work, callable from tests: returns the protocol's status. */
export async function main({ argv, log = console.log, shouldStop }: RunArguments): Promise<string> {
  const { values: a } = parseArgs({
    args: [...argv],
    options: {
      resume: { type: 'boolean', default: false },
      until: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string', default: join(here, 'out') },
      publish: { type: 'string' },
      epochs: { type: 'string', default: '8' },
      'finetune-epochs': { type: 'string', default: '8' },
      'pass2-epochs': { type: 'string', default: '4' },
      lambdas: { type: 'string', default: '5e-4,1e-3,3e-3' },
      'prune-lambda': { type: 'string', default: '5e-4' },
      ratios: { type: 'string', default: '0.5,0.7' },
      'pass2-ratio': { type: 'string', default: '0.5' },
      'batch-size': { type: 'string', default: '64' },
      data: { type: 'string', default: 'fashion-mnist' },
      tiny: { type: 'boolean', default: false },
    },
  });
  const info = await prepareTraining('wasm');
  const full = await loadData(a.data);
  const data: ImageDataset = a.tiny ? { ...full, train: takeFirst(full.train, 512), test: takeFirst(full.test, 256) } : full;
  const epochs = (flag: string) => (a.tiny ? 1 : Number(flag));
  const options: ProtocolOptions = {
    data,
    out: a.out,
    model: () => fashionVgg(),
    epochs: epochs(a.epochs),
    finetuneEpochs: epochs(a['finetune-epochs']),
    pass2Epochs: epochs(a['pass2-epochs']),
    lambdas: numbers(a.lambdas),
    pruneLambda: Number(a['prune-lambda']),
    ratios: numbers(a.ratios),
    pass2Ratio: Number(a['pass2-ratio']),
    batchSize: a.tiny ? 32 : Number(a['batch-size']),
    resume: a.resume,
    until: a.until,
    only: a.only?.split(','),
    log,
    shouldStop,
  };
  log(
    `${info.variant}, ${info.threads} thread(s); ${data.name}: ${data.train.count} training, ${data.test.count} test images; stages ${stageNames(options).join(', ')}`,
  );
  const result = await runProtocol(options);
  const settings = { ...options, data: undefined, model: undefined, log: undefined, shouldStop: undefined, out: undefined, tiny: a.tiny };
  await writeFileAtomically(
    join(a.out, 'results.json'),
    `${JSON.stringify({ status: result.status, options: settings, stages: result.stages }, null, 2)}\n`,
    'the run record',
  );
  if (result.stages.length > 0) log(`\n${resultsTable(result.stages)}\n`);
  if (result.status === 'interrupted') log(`stopped with a checkpoint; continue with the same command and --resume`);
  if (result.status === 'complete') {
    const dir = a.publish ?? (a.tiny ? join(a.out, 'publish') : here);
    const pruned = await publish(result, dir, {
      dataset: data.name,
      trainImages: data.train.count,
      testImages: data.test.count,
      backend: `${info.variant}, ${info.threads} thread(s)`,
      options: settings,
    });
    log(`published to ${dir}: results.json, results.md, gamma.svg, kept-*.svg, baseline.slim, pruned.slim (${pruned.stage})`);
  }
  return result.status;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let stop = false;
  process.on('SIGINT', () => {
    if (stop) process.exit(130);
    stop = true;
    console.log('stopping after this step (Ctrl-C again to stop at once)');
  });
  const status = await main({ argv: process.argv.slice(2), shouldStop: () => stop });
  process.exitCode = status === 'interrupted' ? 1 : 0;
}
