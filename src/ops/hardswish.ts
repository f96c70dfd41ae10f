// Hard-swish (Keras Activation 'hard_silu', alias 'hard_swish'; MobileNetV3): x * relu6(x + 3) / 6,
// through an int8 lookup table (lut.ts). tfjs has no such activation: the model.json layer is an
// Activation whose config names it, computed by a small layer class of our own.
import * as tf from '@tensorflow/tfjs';
import { onnxUnary } from './onnxFields.js';
import { lutOp, type QLut } from './lut.js';
import { plainTflite } from './tfliteFields.js';
import { activationKeras, plainActivationArch } from './activationFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'hardswish';
const KERAS_NAME = 'hard_silu';

export const hardSwishFn = (x: number): number => (x * Math.min(Math.max(x + 3, 0), 6)) / 6;

function hardSwishTensor(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6));
}

/** Saved as Keras `Activation('hard_silu')`; computes it in tfjs. */
class HardSwishActivation extends tf.layers.Layer {
  static className = 'Activation';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return hardSwishTensor(Array.isArray(inputs) ? inputs[0] : inputs);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), activation: KERAS_NAME };
  }
}

export const hardswish = lutOp<Layer, QLut>({
  kind: KIND,
  title: 'HardSwish',
  keras: activationKeras(KIND, KERAS_NAME),
  arch: plainActivationArch(KIND),
  tflite: plainTflite(KIND, ['HARD_SWISH']),
  onnx: onnxUnary(['HardSwish'], (base) => ({ kind: KIND, ...base })),
  tfjsLayer: (l) => new HardSwishActivation({ name: l.name }),
  tfjsForward: (_l, x) => hardSwishTensor(x),
  fn: () => hardSwishFn,
  fields: () => ({}),
  schemaFields: {},
  requantizes: true,
});
