// GlobalAveragePooling1D: the rounded average over all time steps of each channel (semantics.ts
// roundedAverage). Output [1, C], a feature vector.
import * as tf from '@tensorflow/tfjs';
import { floatMean, roundedMean } from './window.js';
import { globalPoolOp } from './formatKeeping.js';

export const gap1d = globalPoolOp({
  kind: 'gap1d',
  title: 'GlobalAveragePooling1D',
  rank: 1,
  kerasClassNames: ['GlobalAveragePooling1D'],
  tfjsLayer: (name) => tf.layers.globalAveragePooling1d({ name }),
  tfjsForward: (x) => tf.mean(x, 1),
  float: floatMean,
  int: roundedMean,
  // Four channels at a time in 16-bit lanes: positions * 128 must fit int16.
  view: (base, positions) => ({
    ...base,
    title: 'GlobalAveragePooling1D',
    positions,
    simd: positions <= 256,
  }),
});
