// Models for the target tests: hand-made ones with a known size, built from coded weight rows.
import { encodeWeights } from '../../src/qmodel/coding/weights.js';
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { QDense } from '../../src/ops/dense.js';
import { HAR_CLASSES } from '../../src/data/dataset.js';
import { makeRng, randInt } from '../helpers/randomModel.js';
import type { AnyQLayer } from '../helpers/layers.js';

function dense(name: string, inF: number, units: number, relu: boolean, seed: number): QDense {
  const rng = makeRng(seed);
  const w = new Int8Array(inF * units);
  for (let i = 0; i < w.length; i++) w[i] = randInt(rng, -128, 127);
  return {
    kind: 'dense',
    name,
    inShape: [1, inF],
    outShape: [1, units],
    units,
    relu,
    inFrac: 4,
    outFrac: 4,
    wFrac: [7],
    bias: new Int32Array(units),
    weights: encodeWeights(w, units, inF, 8, 'packed'),
  };
}

/**
 * Flatten -> Dense(hidden) -> Dense(6) on 128 x 9 windows with 8-bit packed weights: about
 * 1152 * hidden bytes of weights, so hidden = 1000 does not fit a 1 MiB flash.
 */
export function flatDenseModel(hidden: number): CompressedModel {
  const F = 128 * 9;
  const layers: AnyQLayer[] = [
    { kind: 'flatten', name: 'flatten', inShape: [128, 9], outShape: [1, F], frac: 4 },
    dense('hidden', F, hidden, true, 1),
    dense('logits', hidden, 6, false, 2),
  ];
  return {
    inputShape: [128, 9],
    classNames: [...HAR_CLASSES],
    normalization: { mean: new Array(9).fill(0), std: new Array(9).fill(1) },
    inputFrac: 4,
    layers,
    meta: {},
  };
}
