// Sigmoid (Keras Activation 'sigmoid'): 1 / (1 + e^-x) through an int8 lookup table (lut.ts).
import * as tf from '@tensorflow/tfjs';
import { lutOp, type QLut } from './lut.js';
import { activationKeras, plainActivationArch } from './activationFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'sigmoid';

export const sigmoidFn = (x: number): number => 1 / (1 + Math.exp(-x));

export const sigmoid = lutOp<Layer, QLut>({
  kind: KIND,
  title: 'Sigmoid',
  keras: activationKeras(KIND, 'sigmoid'),
  arch: plainActivationArch(KIND),
  tfjsLayer: (l) => tf.layers.activation({ name: l.name, activation: 'sigmoid' }),
  tfjsForward: (_l, x) => tf.sigmoid(x),
  fn: () => sigmoidFn,
  fields: () => ({}),
  schemaFields: {},
  requantizes: true,
});
