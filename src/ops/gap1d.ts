// GlobalAveragePooling1D: the rounded average over all time steps of each channel (semantics.ts
// roundedAverage). Output [1, C], a feature vector.
import * as tf from '@tensorflow/tfjs';
import { roundedAverage } from '../fixedpoint/semantics.js';
import { globalPoolOp } from './formatKeeping.js';

const sum = (v: number[]): number => v.reduce((s, x) => s + x, 0);

export const gap1d = globalPoolOp({
  kind: 'gap1d',
  title: 'GlobalAveragePooling1D',
  kerasClassNames: ['GlobalAveragePooling1D'],
  tfjsLayer: (name) => tf.layers.globalAveragePooling1d({ name }),
  tfjsForward: (x) => tf.mean(x, 1),
  float: (v) => sum(v) / v.length,
  int: (v) => roundedAverage(sum(v), v.length),
  // Four channels at a time in 16-bit lanes: T * 128 must fit int16.
  view: (base) => ({ ...base, simd: base.inT <= 256 }),
});
