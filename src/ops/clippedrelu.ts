// Clipped ReLU (Keras ReLU(max_value=m), Activation 'relu6'): min(max(x, 0), m). Its output keeps the
// input's format; the top is m on that grid, rounded half up and at most 127 (semantics.ts clamp8).
// Unlike ReLU it never fuses into the layer before it (the weighted layers clamp at 0 only).
import * as tf from '@tensorflow/tfjs';
import { onnxClip } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { clamp8, INT8_MAX, roundHalfUp } from '../fixedpoint/semantics.js';
import type { Layer } from '../graph/types.js';
import type { QLayer } from '../qmodel/model.js';
import { fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import type { OpModule } from './types.js';

const KIND = 'clippedrelu';
const DEFAULT_MAX = 6;

export interface ClippedReLULayer extends Layer {
  kind: 'clippedrelu';
  maxValue: number;
}

export interface QClippedReLU extends QLayer {
  maxValue: number;
  frac: number;
}

const maxValue = z.number().finite().positive();
const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  maxValue: maxValue.default(DEFAULT_MAX),
});

/** The clamp's top on the int8 grid of `frac` fractional bits. */
export function clipTop(max: number, frac: number): number {
  return Math.min(INT8_MAX, roundHalfUp(max * 2 ** frac));
}

export const clippedrelu: OpModule<ClippedReLULayer, QClippedReLU> = {
  kind: KIND,
  title: 'ReLU(max_value)',
  infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat }),
  arch: {
    schema: archSchema,
    toLayer: (s, { name }) => ({
      kind: KIND,
      name,
      maxValue: archSchema.parse({ ...s, type: KIND }).maxValue,
    }),
  },
  keras: {
    // Keras ReLU layers come through relu.ts (which sees max_value); this is Activation('relu6').
    classNames: [],
    activationName: 'relu6',
    fromKeras: (l) => ({ layers: [{ kind: KIND, name: l.name, maxValue: DEFAULT_MAX } as ClippedReLULayer] }),
  },
  tflite: {
    opNames: ['RELU6', 'RELU_0_TO_1'],
    fromTflite: (ctx) => ({
      layers: [{ kind: KIND, name: ctx.name, maxValue: ctx.opName === 'RELU6' ? 6 : 1 } as ClippedReLULayer],
    }),
  },
  // ONNX Clip(0, max); Clip(0) without a top is a plain ReLU.
  onnx: onnxClip((base, max): Layer =>
    max === undefined
      ? { kind: 'relu', ...base }
      : ({ kind: KIND, ...base, maxValue: max } as ClippedReLULayer),
  ),
  tfjs: {
    layer: (l) => tf.layers.reLU({ name: l.name, maxValue: l.maxValue }),
    forward: (l, [x]) => tf.clipByValue(x, 0, l.maxValue),
  },
  floatForward: (l, _i, _p, [x]) => x.map((v) => Math.min(Math.max(v, 0), l.maxValue)),
  pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
  quantize(l, ctx) {
    const frac = ctx.inFracs[0];
    return { layer: { ...ctx.base, kind: KIND, maxValue: l.maxValue, frac } as QClippedReLU, outFrac: frac };
  },
  quantized: {
    schema: z.strictObject({ kind: z.literal(KIND), ...layerBaseFields, maxValue, frac: fracBits }),
    toIr: (q) => ({
      kind: KIND,
      name: q.name,
      maxValue: q.maxValue,
      ...(q.inputs ? { inputs: q.inputs } : {}),
    }),
    outFrac: (q) => q.frac,
    check(q, { inFracs, fail }) {
      if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
    },
    reference(q, [x]) {
      const hi = clipTop(q.maxValue, q.frac);
      return x.map((v) => clamp8(v, 0, hi));
    },
  },
  codegen: {
    alias: 'inplace',
    view: (q, base) => ({
      ...base,
      size: q.outShape.reduce((a, b) => a * b, 1),
      hi: clipTop(q.maxValue, q.frac),
    }),
  },
};
