// Dropout: active in training only; the identity at inference, so the deployable graph drops it.
import * as tf from '@tensorflow/tfjs';
import { onnxIdentity } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import type { Layer } from '../graph/types.js';
import type { OpModule } from './types.js';

const KIND = 'dropout';

export interface DropoutLayer extends Layer {
  kind: 'dropout';
  rate: number;
}

const archSchema = z.strictObject({ type: z.literal(KIND), name: archName, rate: z.number().min(0).lt(1) });

export const dropout: OpModule<DropoutLayer> = {
  kind: KIND,
  title: 'Dropout',
  infer: (_l, [x]) => ({ shape: [...x.shape], flat: x.flat }),
  arch: {
    schema: archSchema,
    toLayer: (s, { name }) => ({ kind: KIND, name, rate: (s as z.output<typeof archSchema>).rate }),
  },
  keras: {
    classNames: ['Dropout'],
    fromKeras: (l) => ({
      layers: [{ kind: KIND, name: l.name, rate: Number(l.config.rate ?? 0) } as DropoutLayer],
    }),
  },
  onnx: onnxIdentity,
  tfjs: {
    layer: (l) => tf.layers.dropout({ name: l.name, rate: l.rate }),
    forward: (l, [x], ctx) =>
      ctx.training && l.rate > 0 ? tf.dropout(x, l.rate, undefined, ctx.rng?.seed()) : x,
  },
  floatForward: (_l, _i, _p, [x]) => Float32Array.from(x),
  deploy: { rule: 'identity' },
  pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
  quantize: () => ({ skip: true }),
};
