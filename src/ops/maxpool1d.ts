// MaxPooling1D: the largest value of each window's existing positions ('same' padding is ignored).
// Keeps its input's format; on the Cortex-M4 four channels at a time (SSUB8 + SEL).
import * as tf from '@tensorflow/tfjs';
import { onnxPool } from './onnxFields.js';
import { poolOp, RANK1, type Pool1DLayer, type QPool1D } from './pool.js';
import { maximum } from './window.js';

export interface MaxPool1DLayer extends Pool1DLayer {
  kind: 'maxpool1d';
}
export interface QMaxPool1D extends QPool1D {
  kind: 'maxpool1d';
}

export const maxpool1d = poolOp<MaxPool1DLayer, QMaxPool1D>({
  kind: 'maxpool1d',
  title: 'MaxPooling1D',
  rank: RANK1,
  onnx: onnxPool({
    rank: 1,
    max: true,
    layer: (base, w): MaxPool1DLayer => ({
      kind: 'maxpool1d',
      ...base,
      poolSize: w.k[0],
      stride: w.strides[0],
      padding: w.padding,
    }),
  }),
  tfjsLayer: (args) => tf.layers.maxPooling1d(args as Parameters<typeof tf.layers.maxPooling1d>[0]),
  max: true,
  float: maximum(-Infinity),
  int: maximum(-128),
});
