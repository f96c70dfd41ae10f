// Training progress on stderr: a cli-progress bar when stderr is a terminal, otherwise (logs, CI)
// one plain line per epoch.
import cliProgress from 'cli-progress';

export interface EpochLine {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  note?: string;
}

export interface TrainingProgress {
  batch(epoch: number, done: number, loss: number, accuracy: number): void;
  epoch(line: EpochLine): void;
  stop(): void;
}

export type ProgressMode = 'auto' | 'bar' | 'log' | 'none';

function formatEpoch(l: EpochLine): string {
  const val =
    l.valAccuracy !== undefined
      ? `  val_loss ${l.valLoss!.toFixed(4)}  val_acc ${(l.valAccuracy * 100).toFixed(2)}%`
      : '';
  return (
    `epoch ${String(l.epoch).padStart(String(l.epochs).length)}/${l.epochs}  loss ${l.loss.toFixed(4)}  ` +
    `acc ${(l.accuracy * 100).toFixed(2)}%${val}  ${l.seconds.toFixed(1)}s${l.note ? '  ' + l.note : ''}`
  );
}

export function createProgress(
  mode: ProgressMode,
  epochs: number,
  batchesPerEpoch: number,
  label = 'train',
): TrainingProgress {
  const m = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'log') : mode;
  if (m === 'none') return { batch: () => {}, epoch: () => {}, stop: () => {} };
  if (m === 'log')
    return {
      batch: () => {},
      epoch: (l) => process.stderr.write(`${label}: ${formatEpoch(l)}\n`),
      stop: () => {},
    };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} epoch {epoch}/${epochs} [{bar}] {value}/{total} batches | loss {loss} acc {acc}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    batch(epoch, done, loss, acc) {
      const payload = { epoch, loss: loss.toFixed(4), acc: `${(acc * 100).toFixed(1)}%` };
      if (!started) {
        bar.start(batchesPerEpoch, done, payload);
        started = true;
      } else bar.update(done, payload);
    },
    epoch(l) {
      // Keep a line per epoch above the bar, so the history stays on screen.
      if (started) {
        bar.stop();
        started = false;
      }
      process.stderr.write(`${label}: ${formatEpoch(l)}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
