// AveragePooling1D: the rounded average of each window's existing positions ('same' padding is not
// counted): floor((2*sum + n) / (2n)), semantics.ts roundedAverage. Keeps its input's format.
import * as tf from '@tensorflow/tfjs';
import { onnxPool } from './onnxFields.js';
import { poolOp, RANK1, type Pool1DLayer, type QPool1D } from './pool.js';
import { floatMean, roundedMean } from './window.js';

export interface AvgPool1DLayer extends Pool1DLayer {
  kind: 'avgpool1d';
}
export interface QAvgPool1D extends QPool1D {
  kind: 'avgpool1d';
}

export const avgpool1d = poolOp<AvgPool1DLayer, QAvgPool1D>({
  kind: 'avgpool1d',
  title: 'AveragePooling1D',
  rank: RANK1,
  onnx: onnxPool({
    rank: 1,
    max: false,
    layer: (base, w): AvgPool1DLayer => ({
      kind: 'avgpool1d',
      ...base,
      poolSize: w.k[0],
      stride: w.strides[0],
      padding: w.padding,
    }),
  }),
  tfjsLayer: (args) => tf.layers.averagePooling1d(args as Parameters<typeof tf.layers.averagePooling1d>[0]),
  max: false,
  float: floatMean,
  int: roundedMean,
});
