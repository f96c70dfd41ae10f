// GlobalMaxPooling1D: the largest value over all time steps of each channel. Output [1, C], a
// feature vector in its input's format (a maximum needs no rounding).
import * as tf from '@tensorflow/tfjs';
import { onnxGlobalPool } from './onnxFields.js';
import { globalPoolTflite } from './tfliteFields.js';
import { globalPoolOp } from './formatKeeping.js';
import { maximum } from './window.js';

export const gmp1d = globalPoolOp({
  kind: 'gmp1d',
  title: 'GlobalMaxPooling1D',
  rank: 1,
  kerasClassNames: ['GlobalMaxPooling1D', 'GlobalMaxPool1D'],
  onnx: onnxGlobalPool('gmp1d', 1, ['GlobalMaxPool', 'ReduceMax'], true),
  tfjsLayer: (name) => tf.layers.globalMaxPooling1d({ name }),
  tfjsForward: (x) => tf.max(x, 1),
  float: maximum(-Infinity),
  int: maximum(-128),
  tflite: globalPoolTflite('gmp1d', 'REDUCE_MAX', 1),
  view: (base, positions) => ({ ...base, title: 'GlobalMaxPooling1D', positions }),
});
