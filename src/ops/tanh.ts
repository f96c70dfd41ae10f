// Tanh (Keras Activation 'tanh') through an int8 lookup table (lut.ts).
import * as tf from '@tensorflow/tfjs';
import { onnxUnary } from './onnxFields.js';
import { lutOp, type QLut } from './lut.js';
import { plainTflite } from './tfliteFields.js';
import { activationKeras, plainActivationArch } from './activationFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'tanh';

export const tanh = lutOp<Layer, QLut>({
  kind: KIND,
  title: 'Tanh',
  keras: activationKeras(KIND, 'tanh'),
  arch: plainActivationArch(KIND),
  tflite: plainTflite(KIND, ['TANH']),
  onnx: onnxUnary(['Tanh'], (base) => ({ kind: KIND, ...base })),
  tfjsLayer: (l) => tf.layers.activation({ name: l.name, activation: 'tanh' }),
  tfjsForward: (_l, x) => tf.tanh(x),
  fn: () => Math.tanh,
  fields: () => ({}),
  schemaFields: {},
  requantizes: true,
});
