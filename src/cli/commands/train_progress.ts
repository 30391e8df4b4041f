// Progress of a training run: a live bar on a terminal (epoch, step, loss, accuracy, steps/s,
// ETA), plain log lines otherwise (CI logs, pipes), so output stays readable in both.
import cliProgress from 'cli-progress';
import type { EpochRecord } from '../../train/checkpoint.ts';
import type { StepReport, TrainHooks } from '../../train/trainer.ts';

export interface ProgressDisplay {
  readonly hooks: (phase: string) => Pick<TrainHooks, 'onStep' | 'onEpoch'>;
  /** A message between bars (or a log line). */
  readonly note: (line: string) => void;
  readonly stop: () => void;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

const epochLine = (phase: string, r: EpochRecord, checkpoint: string | undefined) =>
  `${phase}: epoch ${r.epoch} done in ${r.seconds.toFixed(1)}s: lr ${r.lr}, train loss ${r.trainLoss.toFixed(4)}, train acc ${pct(r.trainAccuracy)}, ` +
  `test loss ${r.testLoss.toFixed(4)}, test acc ${pct(r.testAccuracy)}${checkpoint ? `; checkpoint ${checkpoint}` : ''}`;

export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  return stream.isTTY ? barDisplay(stream) : logDisplay(stream);
}

function barDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  let bar: cliProgress.SingleBar | undefined;
  let barEpoch = -1;
  const close = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    hooks: (phase) => ({
      onStep: (s: StepReport) => {
        if (!bar || barEpoch !== s.epoch) {
          close();
          bar = new cliProgress.SingleBar(
            {
              stream,
              format: `${phase} | epoch {epoch}/{epochs} | {bar} | step {value}/{total} | loss {loss} | acc {acc} | {rate} steps/s | ETA {eta_formatted}`,
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(s.stepsPerEpoch, s.stepInEpoch - 1, { epoch: s.epoch + 1, epochs: s.epochs, loss: '-', acc: '-', rate: '-' });
          barEpoch = s.epoch;
        }
        bar.update(s.stepInEpoch, { loss: s.loss.toFixed(4), acc: pct(s.accuracy), rate: s.stepsPerSecond.toFixed(2) });
      },
      onEpoch: (r, checkpoint) => {
        close();
        stream.write(`${epochLine(phase, r, checkpoint)}\n`);
      },
    }),
    note: (line) => {
      close();
      stream.write(`${line}\n`);
    },
    stop: close,
  };
}

function logDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  return {
    hooks: (phase) => ({
      onStep: (s: StepReport) => {
        // About ten lines per epoch, and the first step (which shows the run is alive).
        const every = Math.max(1, Math.round(s.stepsPerEpoch / 10));
        if (s.stepInEpoch % every !== 0 && s.step !== 1) return;
        const left = (s.stepsPerEpoch - s.stepInEpoch) / s.stepsPerSecond;
        stream.write(
          `${phase}: epoch ${s.epoch + 1}/${s.epochs} step ${s.stepInEpoch}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} acc ${pct(s.accuracy)} ` +
            `${s.stepsPerSecond.toFixed(2)} steps/s, epoch ETA ${Number.isFinite(left) ? `${left.toFixed(0)}s` : '-'}\n`,
        );
      },
      onEpoch: (r, checkpoint) => stream.write(`${epochLine(phase, r, checkpoint)}\n`),
    }),
    note: (line) => stream.write(`${line}\n`),
    stop: () => undefined,
  };
}
