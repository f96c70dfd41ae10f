// GlobalMaxPooling2D: the largest value over all H*W positions of each channel. Output [1, C], a
// feature vector in its input's format. Channels last, [H, W, C] is H*W rows of C values: the
// kernel is GlobalMaxPooling1D's over H*W steps.
import * as tf from '@tensorflow/tfjs';
import { onnxGlobalPool } from './onnxFields.js';
import { globalPoolTflite } from './tfliteFields.js';
import { globalPoolOp } from './formatKeeping.js';
import { maximum } from './window.js';

export const gmp2d = globalPoolOp({
  kind: 'gmp2d',
  title: 'GlobalMaxPooling2D',
  rank: 2,
  kerasClassNames: ['GlobalMaxPooling2D', 'GlobalMaxPool2D'],
  onnx: onnxGlobalPool('gmp2d', 2, ['GlobalMaxPool', 'ReduceMax'], true),
  tfjsLayer: (name) => tf.layers.globalMaxPooling2d({ name }),
  tfjsForward: (x) => tf.max(x, [1, 2]),
  float: maximum(-Infinity),
  int: maximum(-128),
  tflite: globalPoolTflite('gmp2d', 'REDUCE_MAX', 2, 'gmp1d'),
  view: (base, positions) => ({ ...base, title: 'GlobalMaxPooling2D', positions }),
});
