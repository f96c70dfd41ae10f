// Sigmoid (Keras Activation 'sigmoid'): 1 / (1 + e^-x) through an int8 lookup table (lut.ts).
import * as tf from '@tensorflow/tfjs';
import { onnxUnary } from './onnxFields.js';
import { lutOp, type QLut } from './lut.js';
import { plainTflite } from './tfliteFields.js';
import { activationKeras, plainActivationArch } from './activationFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'sigmoid';

export const sigmoidFn = (x: number): number => 1 / (1 + Math.exp(-x));

export const sigmoid = lutOp<Layer, QLut>({
  kind: KIND,
  title: 'Sigmoid',
  keras: activationKeras(KIND, 'sigmoid'),
  arch: plainActivationArch(KIND),
  tflite: plainTflite(KIND, ['LOGISTIC']),
  onnx: onnxUnary(['Sigmoid'], (base) => ({ kind: KIND, ...base })),
  tfjsLayer: (l) => tf.layers.activation({ name: l.name, activation: 'sigmoid' }),
  tfjsForward: (_l, x) => tf.sigmoid(x),
  fn: () => sigmoidFn,
  fields: () => ({}),
  schemaFields: {},
  requantizes: true,
});
