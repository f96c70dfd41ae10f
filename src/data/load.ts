// One entry point for every data source: `--data <dir>` (UCI HAR layout), `--data synthetic[:k=v,...]`
// or `--data <description.json>` (recordings or arrays described by a dataset description,
// docs/data.md). All return the same HarDataset; each can also say what it found (a DataReport).
import { TinyforgeError } from '../util/errors.js';
import { HAR_CHANNELS, type HarDataset, type WindowSet } from './dataset.js';
import { applyNormalization, computeNormalization, type Normalization } from './normalize.js';
import { loadRecordings } from './recordings/index.js';
import { reportFromDataset, type DataReport, type FileReport } from './report.js';
import { splitBySubject, type ValidationSplit } from './split.js';
import {
  generateSynthetic,
  SYNTHETIC_DEFAULTS,
  SYNTHETIC_RATE_HZ,
  type SyntheticOptions,
} from './synthetic.js';
import { loadUciHar, uciHarFiles, type LoadOptions } from './uciHar.js';

export type { DataReport } from './report.js';
export type { LoadOptions } from './uciHar.js';

/** Parses `synthetic` or `synthetic:seed=3,train=500,test=200,subjects=30`. */
export function parseSyntheticSpec(spec: string): SyntheticOptions | undefined {
  const m = /^synthetic(?::(.*))?$/.exec(spec.trim());
  if (!m) return undefined;
  const opts: SyntheticOptions = { ...SYNTHETIC_DEFAULTS };
  for (const part of (m[1] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const kv = /^\s*(seed|train|test|subjects)\s*=\s*(\d+)\s*$/.exec(part);
    if (!kv)
      throw new TinyforgeError(
        `bad synthetic data option '${part}'`,
        'usage',
        'use --data synthetic or --data synthetic:seed=N,train=N,test=N,subjects=N',
      );
    opts[kv[1] as keyof SyntheticOptions] = Number(kv[2]);
  }
  if (opts.train < 6 || opts.test < 6 || opts.subjects < 2)
    throw new TinyforgeError('synthetic data needs train >= 6, test >= 6, subjects >= 2', 'usage');
  return opts;
}

/** A `--data` value naming a dataset description: a path ending in `.json`. */
export function isDescriptionSpec(spec: string): boolean {
  return /\.json$/i.test(spec.trim());
}

/** Loads a data set from a directory (UCI HAR), a synthetic spec or a dataset description. */
export function loadDataset(spec: string, opts: LoadOptions = {}): HarDataset {
  const synth = parseSyntheticSpec(spec);
  if (synth) return generateSynthetic(synth);
  if (isDescriptionSpec(spec)) return loadRecordings(spec, opts).dataset;
  return loadUciHar(spec, opts);
}

/** Channel units of the HAR sources (UCI HAR and synthetic): body_acc g, body_gyro rad/s, total_acc g. */
const HAR_UNITS = HAR_CHANNELS.map((c) => (c.includes('gyro') ? 'rad/s' : 'g'));

/** What UCI HAR and the synthetic generator know beyond their windows: rate, units, files read. */
function harReport(ds: HarDataset): DataReport {
  const uci = ds.kind === 'uci-har';
  const windowsIn = (path: string) => ds[/[/\\]test[/\\]/.test(path) ? 'test' : 'train'].n;
  const files: FileReport[] = uci
    ? uciHarFiles(ds.spec).map((path) => {
        const labels = /activity_labels/.test(path);
        const rows = labels ? ds.classNames.length : windowsIn(path);
        return {
          path,
          format: 'uci-har-text',
          rows,
          windows: labels ? 0 : rows,
          droppedWindows: {},
          droppedRows: {},
        };
      })
    : [];
  const notes = ['validation windows are taken from train by whole subjects at training time'];
  if (!uci) notes.push('synthetic windows are generated, not read: there are no files');
  const report = reportFromDataset(ds, files, notes);
  report.rateHz = SYNTHETIC_RATE_HZ;
  report.channels = ds.channelNames.map((name, i) => ({ name, unit: HAR_UNITS[i] ?? '' }));
  return report;
}

/** The data set and what its source found (files, subjects, rates, classes per split, drops). */
export function loadDatasetWithReport(
  spec: string,
  opts: LoadOptions = {},
): { dataset: HarDataset; report: DataReport } {
  if (isDescriptionSpec(spec)) return loadRecordings(spec, opts);
  const dataset = loadDataset(spec, opts);
  return { dataset, report: harReport(dataset) };
}

/** The report of `tinyforge data inspect` (JSON-serialisable), for every kind of source. */
export function inspectDataset(spec: string, opts: LoadOptions = {}): DataReport {
  return loadDatasetWithReport(spec, opts).report;
}

/**
 * Training and validation windows: the source's own validation split when it has one (a
 * description's split.val), else whole subjects moved out of train (`fraction`, `seed`).
 * Use this wherever validation windows are needed, so every command sees the same split.
 */
export function validationSplit(dataset: HarDataset, fraction: number, seed: number): ValidationSplit {
  if (!dataset.val) return splitBySubject(dataset.train, fraction, seed);
  const ids = dataset.val.subjects ? [...new Set(dataset.val.subjects)].sort((a, b) => a - b) : [];
  return { train: dataset.train, val: dataset.val, valSubjects: ids };
}

export interface PreparedData {
  dataset: HarDataset;
  /** Normalized windows. */
  train: WindowSet;
  val: WindowSet;
  test: WindowSet;
  valSubjects: number[];
  normalization: Normalization;
}

export interface PrepareOptions {
  /**
   * Fraction of training windows moved to validation, by whole subjects (default 0.2); unused when
   * the data set has its own validation split.
   */
  valFraction?: number;
  /** Seed of the subject choice (default 0, independent of the training seed). */
  splitSeed?: number;
  /** Use these statistics (e.g. a trained model's) instead of computing them from the training split. */
  normalization?: Normalization;
}

/**
 * Validation split (the data set's own, else by subject from train); normalization statistics from the remaining training windows (or
 * the given ones); every split normalized.
 */
export function prepareData(dataset: HarDataset, opts: PrepareOptions = {}): PreparedData {
  const { train, val, valSubjects } = validationSplit(dataset, opts.valFraction ?? 0.2, opts.splitSeed ?? 0);
  const normalization =
    opts.normalization ?? computeNormalization(train, dataset.channelNames, `${dataset.spec} (train split)`);
  return {
    dataset,
    train: applyNormalization(train, normalization),
    val: applyNormalization(val, normalization),
    test: applyNormalization(dataset.test, normalization),
    valSubjects,
    normalization,
  };
}
