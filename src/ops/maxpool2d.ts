// MaxPooling2D: the largest value of each (ph, pw) window's existing positions over [H, W, C]
// ('same' padding is ignored). Keeps its input's format; on the Cortex-M4 four channels at a time
// (SSUB8 + SEL).
import * as tf from '@tensorflow/tfjs';
import { onnxPool } from './onnxFields.js';
import { pool2dTflite } from './tfliteFields.js';
import { poolOp, RANK2, type Pool2DLayer, type QPool2D } from './pool.js';
import { maximum } from './window.js';

export interface MaxPool2DLayer extends Pool2DLayer {
  kind: 'maxpool2d';
}
export interface QMaxPool2D extends QPool2D {
  kind: 'maxpool2d';
}

export const maxpool2d = poolOp<MaxPool2DLayer, QMaxPool2D>({
  kind: 'maxpool2d',
  title: 'MaxPooling2D',
  rank: RANK2,
  onnx: onnxPool({
    rank: 2,
    max: true,
    layer: (base, w): MaxPool2DLayer => ({
      kind: 'maxpool2d',
      ...base,
      poolSize: [w.k[0], w.k[1]],
      strides: [w.strides[0], w.strides[1]],
      padding: w.padding,
    }),
  }),
  tfjsLayer: (args) => tf.layers.maxPooling2d(args),
  max: true,
  float: maximum(-Infinity),
  int: maximum(-128),
  tflite: pool2dTflite('maxpool2d', 'MAX_POOL_2D', 'maxpool1d'),
});
