// Flatten: [T, C] or [H, W, C] to the feature vector [1, T*C] or [1, H*W*C]. Channels-last data is
// already in feature order (t*C + c, (h*W + w)*C + c), so on the target it is a view of its input
// (no code, no bytes).
import * as tf from '@tensorflow/tfjs';
import { onnxFlatten } from './onnxFields.js';
import { sizeOf, type Layer } from '../graph/types.js';
import { keepingInt8, keepingOps, plainArch, quantizeKeeping, type QFormatKeeping } from './formatKeeping.js';
import type { CodegenOps, OpModule } from './types.js';
import type { QLayer } from '../qmodel/model.js';

const KIND = 'flatten';

/** A view of its input: no code under either scheme. */
const VIEW: CodegenOps<QLayer> = { alias: 'view', view: (_q, base) => ({ ...base, hasCode: false }) };

export const flatten: OpModule<Layer, QFormatKeeping> = {
  kind: KIND,
  title: 'Flatten',
  infer: (_l, [x]) => ({ shape: [1, sizeOf(x.shape)], flat: true }),
  arch: plainArch(KIND),
  keras: {
    classNames: ['Flatten'],
    fromKeras(l, k) {
      k.checkChannelsLast(l);
      return { layers: [{ kind: KIND, name: l.name }] };
    },
  },
  tflite: {
    opNames: ['RESHAPE', 'SQUEEZE'],
    // The positions of a tensor to one vector; other reshapes are reshape.ts's.
    fromTflite: (ctx) =>
      ctx.outShape.length === 1 && !ctx.inFlat[0] ? { layers: [{ kind: KIND, name: ctx.name }] } : undefined,
  },
  onnx: onnxFlatten,
  tfjs: {
    layer: (l) => tf.layers.flatten({ name: l.name }),
    forward: (_l, [x]) => x.reshape([x.shape[0], -1]),
  },
  floatForward: (_l, _i, _p, [x]) => Float32Array.from(x),
  pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
  quantize: (_l, ctx) => quantizeKeeping(KIND, ctx),
  quantized: keepingOps(KIND, (_q, [x]) => x.slice()),
  codegen: VIEW,
  int8: { ...keepingInt8(KIND, (_q, [x]) => x.slice()), codegen: VIEW },
};
