// `tinyforge train`: trains a 1D CNN on a data set (UCI HAR, a dataset description, synthetic windows)
// and writes a model directory that records the data (later commands default to it).
import type { CommandModule } from 'yargs';
import { printJson } from '../output.js';
import { trainModel, type TrainSummary } from '../../train/trainer.js';
import { HAR_DEFAULT_TRAINING } from '../../train/archs/index.js';
import { TinyforgeError } from '../../util/errors.js';

interface TrainArgs {
  data: string;
  out: string;
  arch?: string;
  epochs?: number;
  'batch-size'?: number;
  lr?: number;
  seed: number;
  'val-fraction'?: number;
  patience?: number;
  json: boolean;
}

const d = HAR_DEFAULT_TRAINING;

const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');

/** What the data source dropped and repaired, when it did (tinyforge data inspect gives the whole report). */
function dataReportLines(r: TrainSummary['dataReport']): string[] {
  const lines: string[] = [];
  const dropped = r.windows.produced - r.windows.kept;
  if (dropped > 0)
    lines.push(
      `                 ${dropped} of ${r.windows.produced} windows dropped (${counts(r.windows.dropped)})`,
    );
  if (Object.keys(r.rows.dropped).length)
    lines.push(`                 rows dropped: ${counts(r.rows.dropped)}`);
  if (r.gaps.count)
    lines.push(
      `                 ${r.gaps.count} gaps (${r.gaps.seconds.toFixed(1)} s): windows never span one`,
    );
  for (const [name, x] of Object.entries(r.repairs))
    lines.push(`                 repair ${name}: ${x.rows} rows, ${x.windows} windows dropped`);
  return lines;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a 1D CNN on a data set (UCI HAR, a dataset description or synthetic windows)',
  builder: (y) =>
    y
      .option('data', {
        type: 'string',
        demandOption: true,
        describe:
          "Directory containing 'UCI HAR Dataset/' (or that directory), a dataset description (.json), or synthetic[:seed=N,train=N,test=N]; recorded in the model directory",
      })
      .option('out', { type: 'string', demandOption: true, describe: 'Model directory to write' })
      .option('arch', {
        type: 'string',
        describe:
          'Architecture: a built-in name (har-default, ds-cnn1d, tcn) or a JSON file (default: har-default)',
      })
      .option('epochs', { type: 'number', describe: `Maximum epochs (default ${d.epochs})` })
      .option('batch-size', { type: 'number', describe: `Batch size (default ${d.batchSize})` })
      .option('lr', { type: 'number', describe: `Adam learning rate (default ${d.lr})` })
      .option('seed', {
        type: 'number',
        default: 1,
        describe: 'Seed of initialization, shuffling and dropout',
      })
      .option('val-fraction', {
        type: 'number',
        describe: `Training windows held out for validation, by subject (default ${d.valFraction})`,
      })
      .option('patience', {
        type: 'number',
        describe: `Early-stopping patience in epochs, 0 = off (default ${d.patience})`,
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON' })
      .example(
        '$0 train --data ../shared/data/uci-har --out out/har-default',
        'Train the default model on UCI HAR',
      )
      .example('$0 train --data synthetic --out out/synth --epochs 5', 'Train on generated windows'),
  handler: async (a) => {
    const positive = (name: string, v: number | undefined, integer: boolean) => {
      if (v !== undefined && (!(v > 0) || (integer && !Number.isInteger(v))))
        throw new TinyforgeError(
          `--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`,
          'usage',
        );
    };
    positive('epochs', a.epochs, true);
    positive('batch-size', a['batch-size'], true);
    positive('lr', a.lr, false);
    if (a.patience !== undefined && !(Number.isInteger(a.patience) && a.patience >= 0))
      throw new TinyforgeError(`--patience must be an integer >= 0, got ${a.patience}`, 'usage');
    if (!Number.isInteger(a.seed))
      throw new TinyforgeError(`--seed must be an integer, got ${a.seed}`, 'usage');
    const { summary: s } = await trainModel({
      data: a.data,
      out: a.out,
      arch: a.arch,
      epochs: a.epochs,
      batchSize: a['batch-size'],
      lr: a.lr,
      seed: a.seed,
      valFraction: a['val-fraction'],
      patience: a.patience,
    });
    if (a.json) {
      printJson(s);
      return;
    }
    const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
    process.stdout.write(
      [
        `model:           ${s.out}`,
        `data:            ${s.dataSource}`,
        ...dataReportLines(s.dataReport),
        `architecture:    ${s.arch} (${s.params} parameters, ${s.deployableParams} deployed; ${s.macs} MACs per window)`,
        `windows:         ${s.trainWindows} train, ${s.valWindows} validation (subjects ${s.valSubjects.join(', ') || '-'}), ${s.testWindows} test`,
        `epochs:          ${s.epochsRun} run, weights of epoch ${s.bestEpoch} kept`,
        `val accuracy:    ${pct(s.valAccuracy)}`,
        `test accuracy:   ${pct(s.testAccuracy)}`,
        `time:            ${s.seconds.toFixed(1)} s wall, ${s.cpuSeconds.toFixed(1)} s CPU on ${s.backend} (${s.windowsPerSecond.toFixed(0)} windows/s)`,
      ].join('\n') + '\n',
    );
  },
};
