// The data a compressor needs, normalized with the MODEL's statistics (never recomputed: the
// firmware applies exactly the normalization the model was trained with).
import type { HarDataset, WindowSet } from '../data/dataset.js';
import { applyNormalization, type Normalization } from '../data/normalize.js';
import { loadDataset, validationSplit } from '../data/load.js';
import type { CompressData } from './compress.js';

/** How `tinyforge train` chose its validation subjects (training.json `hyper`; defaults 0.2 and 0). */
export interface ValidationChoice {
  valFraction?: number;
  splitSeed?: number;
}

/**
 * Training and validation windows as `tinyforge train` split them: the data set's own validation
 * split when it has one, else whole subjects moved out of the training split.
 */
export function trainValSplit(
  ds: HarDataset,
  v: ValidationChoice = {},
): { train: WindowSet; val: WindowSet } {
  const { train, val } = validationSplit(ds, v.valFraction ?? 0.2, v.splitSeed ?? 0);
  return { train, val };
}

/** A loaded data set as compression data: the same validation windows as training, all normalized. */
export function compressDataFrom(
  ds: HarDataset,
  norm: Normalization,
  evalSplit: 'test' | 'val' = 'test',
  validation: ValidationChoice = {},
): CompressData {
  const { train, val } = trainValSplit(ds, validation);
  const nTrain = applyNormalization(train, norm);
  const nVal = applyNormalization(val, norm);
  return {
    train: nTrain,
    val: nVal,
    eval: evalSplit === 'test' ? applyNormalization(ds.test, norm) : nVal,
    evalName: evalSplit,
  };
}

/** Same validation subjects as `tinyforge train` with its defaults (fraction 0.2, split seed 0). */
export function loadCompressData(
  spec: string,
  norm: Normalization,
  evalSplit: 'test' | 'val' = 'test',
): CompressData {
  return compressDataFrom(loadDataset(spec), norm, evalSplit);
}
