// Softmax: probabilities for training and float evaluation. The class is the argmax of the logits,
// which softmax does not change, so the quantized model ends before it (no code on the target).
import * as tf from '@tensorflow/tfjs';
import { onnxSoftmax } from './onnxFields.js';
import type { Layer } from '../graph/types.js';
import { plainArch } from './formatKeeping.js';
import type { OpModule } from './types.js';
import { SOFTMAX_OPTIONS } from './tfliteFields.js';

const KIND = 'softmax';

export const softmax: OpModule = {
  kind: KIND,
  title: 'Softmax',
  infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat }),
  arch: plainArch(KIND),
  keras: {
    classNames: ['Softmax'],
    activationName: 'softmax',
    fromKeras(l, k) {
      if ((l.config.axis ?? -1) !== -1) k.unsupported(l, `axis ${l.config.axis}`);
      return { layers: [{ kind: KIND, name: l.name } as Layer] };
    },
  },
  tflite: {
    opNames: ['SOFTMAX'],
    fromTflite(ctx) {
      const beta = ctx.options.float(SOFTMAX_OPTIONS.beta);
      if (beta !== 1) ctx.unsupported(`beta ${beta} (only 1)`);
      const x = ctx.inShapes[0];
      // The IR's softmax normalizes the whole tensor: TFLite's normalizes each position.
      if (!ctx.inFlat[0] && (x.length !== 2 || x[0] !== 1))
        ctx.unsupported(`a softmax at every position of [${x.join(', ')}] (only of a vector)`);
      return { layers: [{ kind: KIND, name: ctx.name }] };
    },
  },
  onnx: onnxSoftmax(KIND),
  tfjs: {
    layer: (l) => tf.layers.activation({ name: l.name, activation: 'softmax' }),
    // The loss wants logits: a trailing Softmax passes them through.
    forward: (_l, [x], ctx) => (ctx.logitsOut ? x : tf.softmax(x)),
  },
  floatForward(_l, _i, _p, [x]) {
    let mx = -Infinity;
    for (const v of x) mx = Math.max(mx, v);
    const y = x.map((v) => Math.exp(v - mx));
    const s = y.reduce((a, v) => a + v, 0);
    return y.map((v) => v / s);
  },
  pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
  quantize: () => ({ skip: true }),
};
