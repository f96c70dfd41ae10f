// AveragePooling2D: the rounded average of each (ph, pw) window's existing positions over
// [H, W, C] ('same' padding is not counted): floor((2*sum + n) / (2n)), semantics.ts
// roundedAverage. Keeps its input's format; on the Cortex-M4 four channels' sums at a time (SXTAB16).
import * as tf from '@tensorflow/tfjs';
import { onnxPool } from './onnxFields.js';
import { pool2dTflite } from './tfliteFields.js';
import { poolOp, RANK2, type Pool2DLayer, type QPool2D } from './pool.js';
import { floatMean, roundedMean } from './window.js';

export interface AvgPool2DLayer extends Pool2DLayer {
  kind: 'avgpool2d';
}
export interface QAvgPool2D extends QPool2D {
  kind: 'avgpool2d';
}

export const avgpool2d = poolOp<AvgPool2DLayer, QAvgPool2D>({
  kind: 'avgpool2d',
  title: 'AveragePooling2D',
  rank: RANK2,
  onnx: onnxPool({
    rank: 2,
    max: false,
    layer: (base, w): AvgPool2DLayer => ({
      kind: 'avgpool2d',
      ...base,
      poolSize: [w.k[0], w.k[1]],
      strides: [w.strides[0], w.strides[1]],
      padding: w.padding,
    }),
  }),
  tfjsLayer: (args) => tf.layers.averagePooling2d(args),
  max: false,
  float: floatMean,
  int: roundedMean,
  tflite: pool2dTflite('avgpool2d', 'AVERAGE_POOL_2D', 'avgpool1d'),
});
