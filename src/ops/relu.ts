// ReLU: max(0, x). Right after a linear weighted layer it becomes that layer's fused activation
// (src/graph/fold.ts); standalone it runs on int8, in place when the planner allows. A Keras ReLU
// with max_value or negative_slope becomes the clipped ReLU or the LeakyReLU.
import * as tf from '@tensorflow/tfjs';
import { onnxUnary } from './onnxFields.js';
import { sizeOf, type Layer } from '../graph/types.js';
import { keepingOps, plainArch, quantizeKeeping, type QFormatKeeping } from './formatKeeping.js';
import type { OpModule } from './types.js';
import { plainTflite } from './tfliteFields.js';

const KIND = 'relu';

export const relu: OpModule<Layer, QFormatKeeping> = {
  kind: KIND,
  title: 'ReLU',
  infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat }),
  arch: plainArch(KIND),
  keras: {
    classNames: ['ReLU'],
    activationName: 'relu',
    fromKeras(l, k) {
      const c = l.config;
      const max = c.max_value ?? null;
      const slope = c.negative_slope ?? 0;
      if ((c.threshold ?? 0) !== 0) k.unsupported(l, 'threshold');
      if (max !== null && slope !== 0) k.unsupported(l, 'max_value together with negative_slope');
      // ReLU(max_value) is the clipped ReLU, ReLU(negative_slope) the LeakyReLU: their own operators.
      if (max !== null)
        return { layers: [{ kind: 'clippedrelu', name: l.name, maxValue: Number(max) } as Layer] };
      if (slope !== 0)
        return { layers: [{ kind: 'leakyrelu', name: l.name, alpha: Number(slope) } as Layer] };
      return { layers: [{ kind: KIND, name: l.name }] };
    },
  },
  tflite: plainTflite(KIND, ['RELU']),
  onnx: onnxUnary(['Relu'], (base) => ({ kind: KIND, ...base }), true),
  tfjs: {
    layer: (l) => tf.layers.reLU({ name: l.name }),
    forward: (_l, [x]) => tf.relu(x),
  },
  floatForward: (_l, _i, _p, [x]) => x.map((v) => (v > 0 ? v : 0)),
  deploy: { rule: 'activation', activation: 'relu' },
  pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
  quantize: (_l, ctx) => quantizeKeeping(KIND, ctx),
  quantized: keepingOps(KIND, (_q, [x]) => x.map((v) => (v < 0 ? 0 : v))),
  codegen: { alias: 'inplace', view: (q, base) => ({ ...base, size: sizeOf(q.outShape) }) },
};
