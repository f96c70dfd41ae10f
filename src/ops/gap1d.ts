// GlobalAveragePooling1D: the rounded average over all time steps of each channel (semantics.ts
// roundedAverage). Output [1, C], a feature vector.
import * as tf from '@tensorflow/tfjs';
import { onnxGlobalPool } from './onnxFields.js';
import { globalPoolTflite } from './tfliteFields.js';
import { floatMean, roundedMean } from './window.js';
import { globalPoolOp } from './formatKeeping.js';

export const gap1d = globalPoolOp({
  kind: 'gap1d',
  title: 'GlobalAveragePooling1D',
  rank: 1,
  kerasClassNames: ['GlobalAveragePooling1D'],
  onnx: onnxGlobalPool('gap1d', 1, ['GlobalAveragePool', 'ReduceMean'], false),
  tfjsLayer: (name) => tf.layers.globalAveragePooling1d({ name }),
  tfjsForward: (x) => tf.mean(x, 1),
  float: floatMean,
  int: roundedMean,
  tflite: globalPoolTflite('gap1d', 'MEAN', 1),
  // Four channels at a time in 16-bit lanes: positions * 128 must fit int16.
  view: (base, positions) => ({
    ...base,
    title: 'GlobalAveragePooling1D',
    positions,
    simd: positions <= 256,
  }),
});
