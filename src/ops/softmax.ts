// Softmax: probabilities for training and float evaluation. The class is the argmax of the logits,
// which softmax does not change, so the quantized model ends before it (no code on the target).
// Under TFLite's int8 scheme it is computed as TFLite does, per row of the last axis
// (templates/kernels/softmax.c.hbs; output scale 1/256, zero point -128).
import * as tf from '@tensorflow/tfjs';
import { onnxSoftmax } from './onnxFields.js';
import type { Layer } from '../graph/types.js';
import { plainArch } from './formatKeeping.js';
import type { Int8Ops, OpModule } from './types.js';
import { z } from 'zod';
import { channelsOf, sizeOf } from '../graph/types.js';
import { checkInt8Input, int8Base, int8Schema, type Int8Q } from './int8.js';
import { softmaxParams, softmaxRow, TFLITE_2_21_ROUNDING } from '../fixedpoint/tflite.js';
import { SOFTMAX_OPTIONS } from './tfliteFields.js';

const KIND = 'softmax';

/** Under TFLite's int8 scheme the Softmax is computed (output scale 1/256, zero point -128). */
interface QSoftmax8 extends Int8Q {
  beta: number;
}

const softmaxInt8: Int8Ops<Layer, QSoftmax8> = {
  fromTflite: (_l, ctx) => ({ ...int8Base(ctx), kind: KIND, beta: 1 }),
  quantized: {
    schema: int8Schema(KIND, { beta: z.number().positive().finite() }, false),
    toIr: (q) => ({ kind: KIND, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: () => 0,
    outQuant: (q) => q.output,
    check(q, ctx) {
      checkInt8Input(q, ctx);
      if (q.output.scale !== 1 / 256 || q.output.zeroPoint !== -128)
        ctx.fail(
          `output scale ${q.output.scale} and zero point ${q.output.zeroPoint} (TFLite requires 1/256 and -128)`,
        );
      if (q.activation !== 'NONE') ctx.fail(`fused activation ${q.activation}`);
    },
    reference(q, [x]) {
      const rounding = TFLITE_2_21_ROUNDING.softmax;
      const p = softmaxParams(q.input.scale, q.beta, rounding);
      const C = channelsOf(q.inShape);
      const y = new Int8Array(x.length);
      for (let at = 0; at < x.length; at += C) y.set(softmaxRow(x.subarray(at, at + C), p, rounding), at);
      return y;
    },
  },
  codegen: {
    // The kernel reads a row whole before it writes it.
    alias: 'inplace',
    // Each exp of a row, computed once (int32).
    prepare: (q) => ({ scratchBytes: 4 * channelsOf(q.inShape), data: null }),
    view(q, base) {
      const C = channelsOf(q.inShape);
      const p = softmaxParams(q.input.scale, q.beta, TFLITE_2_21_ROUNDING.softmax);
      return { ...base, C, rows: sizeOf(q.inShape) / C, scratchWord: base.scratchAt / 4, ...p };
    },
  },
};

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
  int8: softmaxInt8,
};
