// The data a compressor needs, normalized with the MODEL's statistics (never recomputed: the
// firmware applies exactly the normalization the model was trained with).
import { applyNormalization, type Normalization } from '../data/normalize.js';
import { loadDataset } from '../data/load.js';
import { splitBySubject } from '../data/split.js';
import type { CompressData } from './compress.js';

/** Same validation subjects as `tinyforge train` (fraction 0.2, split seed 0). */
export function loadCompressData(
  spec: string,
  norm: Normalization,
  evalSplit: 'test' | 'val' = 'test',
): CompressData {
  const ds = loadDataset(spec);
  const { train, val } = splitBySubject(ds.train, 0.2, 0);
  const nTrain = applyNormalization(train, norm);
  const nVal = applyNormalization(val, norm);
  return {
    train: nTrain,
    val: nVal,
    eval: evalSplit === 'test' ? applyNormalization(ds.test, norm) : nVal,
    evalName: evalSplit,
  };
}
