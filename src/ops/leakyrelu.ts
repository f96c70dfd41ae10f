// LeakyReLU (Keras LeakyReLU(alpha / negative_slope), Activation 'leaky_relu'): x for x >= 0, alpha*x
// below. Its output keeps the input's format, and it runs through the int8 lookup table of lut.ts
// rather than a multiply and shift: the table is alpha exactly (rounded once, half up, onto the
// grid), costs no arithmetic definition of its own, and on the Cortex-M4 one table load per value
// is as fast as SXTB16/SMULBB plus a rounding shift and SSAT; the price is 256 bytes of flash.
import * as tf from '@tensorflow/tfjs';
import { onnxUnary } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { lutOp, type QLut } from './lut.js';
import { LEAKY_RELU_OPTIONS } from './tfliteFields.js';
import type { Layer } from '../graph/types.js';

const KIND = 'leakyrelu';
/** Keras' `leaky_relu` activation default (the LeakyReLU layer's files always give theirs). */
const DEFAULT_ALPHA = 0.2;

export interface LeakyReLULayer extends Layer {
  kind: 'leakyrelu';
  alpha: number;
}

export interface QLeakyReLU extends QLut {
  alpha: number;
}

const alpha = z.number().finite();
const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  alpha: alpha.default(DEFAULT_ALPHA),
});

export const leakyFn =
  (a: number) =>
  (x: number): number =>
    x >= 0 ? x : a * x;

export const leakyrelu = lutOp<LeakyReLULayer, QLeakyReLU>({
  kind: KIND,
  title: 'LeakyReLU',
  keras: {
    classNames: ['LeakyReLU'],
    activationName: 'leaky_relu',
    fromKeras(l) {
      const a = Number(l.config.negative_slope ?? l.config.alpha ?? 0.3);
      return { layers: [{ kind: KIND, name: l.name, alpha: a } as LeakyReLULayer] };
    },
  },
  arch: {
    schema: archSchema,
    toLayer: (s, { name }) => ({
      kind: KIND,
      name,
      alpha: archSchema.parse({ type: KIND, ...s }).alpha,
    }),
  },
  tflite: {
    opNames: ['LEAKY_RELU'],
    // alpha is stored as a float32: its shortest decimal form (0.2, not 0.20000000298).
    fromTflite: (ctx) => ({
      layers: [
        {
          kind: KIND,
          name: ctx.name,
          alpha: Number(ctx.options.float(LEAKY_RELU_OPTIONS.alpha).toPrecision(7)),
        } as LeakyReLULayer,
      ],
    }),
  },
  onnx: onnxUnary(['LeakyRelu'], (base, node): LeakyReLULayer => ({
    kind: KIND,
    ...base,
    alpha: node.attrs.float('alpha', 0.01),
  })),
  tfjsLayer: (l) => tf.layers.leakyReLU({ name: l.name, alpha: l.alpha }),
  tfjsForward: (l, x) => tf.leakyRelu(x, l.alpha),
  fn: (l) => leakyFn(l.alpha),
  fields: (l) => ({ alpha: l.alpha }),
  schemaFields: { alpha },
  // The output keeps the input's format: only the negative side is rounded.
  outFrac: (ctx) => ctx.inFracs[0],
  requantizes: false,
});
