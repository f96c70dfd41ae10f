// Damaged copies of compressed models for the corruption tests (host: corrupt.test.ts, target:
// test/kernels/corrupt.test.ts): flipped bits or a truncated array in one layer's bitstream.
import type { CompressedModel } from '../../src/qmodel/model.js';
import type { QConv1D } from '../../src/ops/conv1d.js';
import type { QDense } from '../../src/ops/dense.js';
import { isWeighted } from '../helpers/layers.js';
import { makeRng, randInt } from '../helpers/randomModel.js';

export type Damage = 'flip' | 'truncate';

export interface Variant {
  name: string;
  damage: Damage;
  model: CompressedModel;
}

export function coded(m: CompressedModel): (QConv1D | QDense)[] {
  return m.layers.filter(isWeighted);
}

/** A deep copy with one layer's bitstream damaged (a coded layer among `only`, if given). */
export function damage(
  base: CompressedModel,
  how: Damage,
  seed: number,
  only?: (l: QConv1D | QDense) => boolean,
): CompressedModel {
  const rng = makeRng(seed);
  const m: CompressedModel = {
    ...base,
    layers: base.layers.map((l) =>
      isWeighted(l) ? { ...l, weights: { ...l.weights, bitstream: l.weights.bitstream.slice() } } : l,
    ),
  };
  const all = coded(m);
  const layers = only ? all.filter(only) : all;
  const l = (layers.length ? layers : all)[randInt(rng, 0, (layers.length || all.length) - 1)];
  const w = l.weights;
  if (how === 'flip') {
    const flips = randInt(rng, 1, 3);
    for (let i = 0; i < flips; i++) {
      const bit = randInt(rng, 0, Math.max(0, w.bitLength - 1));
      w.bitstream[bit >> 3] ^= 0x80 >> (bit & 7);
    }
  } else {
    // Keep bitLength consistent with the array (else the compiler refuses the model).
    const bytes = randInt(rng, 0, w.bitstream.length - 1);
    w.bitstream = w.bitstream.slice(0, bytes);
    w.bitLength = Math.min(w.bitLength, 8 * bytes);
  }
  return m;
}
