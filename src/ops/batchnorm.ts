// BatchNormalization over the channel axis. Trained with batch statistics (moving averages kept as
// state); at deployment folded into the weighted layer right before it (src/graph/fold.ts):
//   s = gamma / sqrt(var + eps), y = (x - mean) * s + beta  (per channel).
import * as tf from '@tensorflow/tfjs';
import { onnxBatchNorm } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { isChannelsAxis } from './kerasFields.js';
import { channelsOf, type Layer, type LayerParams } from '../graph/types.js';
import { TinyforgeError } from '../util/errors.js';
import type { OpModule } from './types.js';

const KIND = 'batchnorm';

export interface BatchNormLayer extends Layer {
  kind: 'batchnorm';
  epsilon: number;
}

const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  epsilon: z.number().positive().default(0.001),
});

const STATS = ['gamma', 'beta', 'movingMean', 'movingVariance'] as const;

export const batchnorm: OpModule<BatchNormLayer> = {
  kind: KIND,
  title: 'BatchNormalization',
  infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat, params: 4 * channelsOf(x.shape) }),
  arch: {
    schema: archSchema,
    toLayer: (s, { name }) => ({ kind: KIND, name, epsilon: (s as z.output<typeof archSchema>).epsilon }),
  },
  keras: {
    classNames: ['BatchNormalization'],
    fromKeras(l, k) {
      if (!isChannelsAxis(l, k, l.config.axis ?? -1))
        k.unsupported(l, `axis ${JSON.stringify(l.config.axis)} (only the channel axis, -1)`);
      const layer: BatchNormLayer = { kind: KIND, name: l.name, epsilon: Number(l.config.epsilon ?? 0.001) };
      // Without center / scale the file has no beta / gamma: they are 0 / 1.
      const defaults: { gamma?: 'ones'; beta?: 'zeros' } = {};
      if (!(l.config.scale ?? true)) defaults.gamma = 'ones';
      if (!(l.config.center ?? true)) defaults.beta = 'zeros';
      return { layers: [layer], defaults };
    },
  },
  onnx: onnxBatchNorm((base, epsilon): BatchNormLayer => ({ kind: KIND, ...base, epsilon })),
  params(_l, info) {
    const C = channelsOf(info.inShape);
    return [
      { key: 'gamma', shape: [C], init: 'ones', trainable: true, kerasName: 'gamma' },
      { key: 'beta', shape: [C], init: 'zeros', trainable: true, kerasName: 'beta' },
      { key: 'movingMean', shape: [C], init: 'zeros', trainable: false, kerasName: 'moving_mean' },
      { key: 'movingVariance', shape: [C], init: 'ones', trainable: false, kerasName: 'moving_variance' },
    ];
  },
  tfjs: {
    layer: (l) => tf.layers.batchNormalization({ name: l.name, epsilon: l.epsilon, axis: -1 }),
    forward(l, [h], ctx) {
      const axes = Array.from({ length: h.rank - 1 }, (_, i) => i);
      const mm = ctx.variable('movingMean')!;
      const mv = ctx.variable('movingVariance')!;
      let mean: tf.Tensor = mm;
      let variance: tf.Tensor = mv;
      if (ctx.training) {
        ({ mean, variance } = tf.moments(h, axes));
        // Moving statistics are state, not part of the gradient.
        const m = ctx.bnMomentum;
        mm.assign(tf.add(tf.mul(mm, m), tf.mul(mean, 1 - m)));
        mv.assign(tf.add(tf.mul(mv, m), tf.mul(variance, 1 - m)));
      }
      return tf.batchNorm(h, mean, variance, ctx.variable('beta'), ctx.variable('gamma'), l.epsilon);
    },
  },
  floatForward(l, info, p, [x]) {
    const C = channelsOf(info.inShape);
    const [g, b, m, v] = STATS.map((k) => p[k]!);
    return x.map((xi, i) => {
      const c = i % C;
      return ((xi - m[c]) / Math.sqrt(v[c] + l.epsilon)) * g[c] + b[c];
    });
  },
  deploy: {
    rule: 'affine',
    affine(l, p: LayerParams) {
      const layer = l as BatchNormLayer;
      const [g, b, m, v] = STATS.map((k) => p[k]!);
      const scale = Float64Array.from(g, (gc, c) => gc / Math.sqrt(v[c] + layer.epsilon));
      return { mean: m, scale, beta: b };
    },
  },
  pruning: {
    keepInputs(_l, p, keep) {
      const params = { ...p };
      for (const key of STATS) if (p[key]) params[key] = Float32Array.from(keep, (o) => p[key]![o]);
      return { params, stop: false };
    },
  },
  quantize(l) {
    throw new TinyforgeError(`batchnorm '${l.name}' must be folded before quantization`, 'model');
  },
};
