// AveragePooling1D: the rounded average of each window's existing positions ('same' padding is not
// counted): floor((2*sum + n) / (2n)), semantics.ts roundedAverage. Keeps its input's format.
import * as tf from '@tensorflow/tfjs';
import { floatMean, poolOp, roundedMean, type Pool1DLayer, type QPool1D } from './window1d.js';

export interface AvgPool1DLayer extends Pool1DLayer {
  kind: 'avgpool1d';
}
export interface QAvgPool1D extends QPool1D {
  kind: 'avgpool1d';
}

export const avgpool1d = poolOp<AvgPool1DLayer, QAvgPool1D>({
  kind: 'avgpool1d',
  title: 'AveragePooling1D',
  tfjsLayer: (args) => tf.layers.averagePooling1d(args),
  max: false,
  float: floatMean,
  int: roundedMean,
});
