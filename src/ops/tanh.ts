// Tanh (Keras Activation 'tanh') through an int8 lookup table (lut.ts).
import * as tf from '@tensorflow/tfjs';
import { lutOp, type QLut } from './lut.js';
import { activationKeras, plainActivationArch } from './activationFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'tanh';

export const tanh = lutOp<Layer, QLut>({
  kind: KIND,
  title: 'Tanh',
  keras: activationKeras(KIND, 'tanh'),
  arch: plainActivationArch(KIND),
  tfjsLayer: (l) => tf.layers.activation({ name: l.name, activation: 'tanh' }),
  tfjsForward: (_l, x) => tf.tanh(x),
  fn: () => Math.tanh,
  fields: () => ({}),
  schemaFields: {},
  requantizes: true,
});
