// One entry point for every data source: `--data <dir>` (UCI HAR layout) or `--data synthetic[:k=v,...]`.
import { TinyforgeError } from '../util/errors.js';
import type { HarDataset, WindowSet } from './dataset.js';
import { applyNormalization, computeNormalization, type Normalization } from './normalize.js';
import { splitBySubject } from './split.js';
import { generateSynthetic, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './synthetic.js';
import { loadUciHar, type LoadOptions } from './uciHar.js';

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

/** Loads a data set from a directory (UCI HAR) or a synthetic spec. */
export function loadDataset(spec: string, opts: LoadOptions = {}): HarDataset {
  const synth = parseSyntheticSpec(spec);
  if (synth) return generateSynthetic(synth);
  return loadUciHar(spec, opts);
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
  /** Fraction of training windows moved to validation, by whole subjects (default 0.2). */
  valFraction?: number;
  /** Seed of the subject choice (default 0, independent of the training seed). */
  splitSeed?: number;
  /** Use these statistics (e.g. a trained model's) instead of computing them from the training split. */
  normalization?: Normalization;
}

/**
 * Validation split by subject; normalization statistics from the remaining training windows (or
 * the given ones); every split normalized.
 */
export function prepareData(dataset: HarDataset, opts: PrepareOptions = {}): PreparedData {
  const { train, val, valSubjects } = splitBySubject(
    dataset.train,
    opts.valFraction ?? 0.2,
    opts.splitSeed ?? 0,
  );
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
