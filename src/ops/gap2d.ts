// GlobalAveragePooling2D: the rounded average over all H*W positions of each channel (semantics.ts
// roundedAverage). Output [1, C], a feature vector. Channels last, [H, W, C] is H*W rows of C
// values: the kernel is GlobalAveragePooling1D's over H*W steps.
import * as tf from '@tensorflow/tfjs';
import { onnxGlobalPool } from './onnxFields.js';
import { globalPoolTflite } from './tfliteFields.js';
import { floatMean, roundedMean } from './window.js';
import { globalPoolOp } from './formatKeeping.js';

export const gap2d = globalPoolOp({
  kind: 'gap2d',
  title: 'GlobalAveragePooling2D',
  rank: 2,
  kerasClassNames: ['GlobalAveragePooling2D', 'GlobalAvgPool2D'],
  onnx: onnxGlobalPool('gap2d', 2, ['GlobalAveragePool', 'ReduceMean'], false),
  tfjsLayer: (name) => tf.layers.globalAveragePooling2d({ name }),
  tfjsForward: (x) => tf.mean(x, [1, 2]),
  float: floatMean,
  int: roundedMean,
  tflite: globalPoolTflite('gap2d', 'MEAN', 2, 'gap1d'),
  // Four channels at a time in 16-bit lanes: positions * 128 must fit int16.
  view: (base, positions) => ({
    ...base,
    title: 'GlobalAveragePooling2D',
    positions,
    simd: positions <= 256,
  }),
});
