// Concatenate (Keras Concatenate on the channels axis): the inputs' channels side by side at every
// position. Quantized, each input is rescaled to the common output format (semantics.ts rescale8;
// a plain copy when its format is the output's). The output frac is the calibrated range's, at most
// the coarsest input's, so every shift is a right shift and nothing saturates.
import * as tf from '@tensorflow/tfjs';
import { onnxConcat } from './onnxFields.js';
import { z } from 'zod';
import { fracBitsFor, rescale8 } from '../fixedpoint/semantics.js';
import { channelsOf, sizeOf, type Layer } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import {
  checkMergeInputs,
  mergeArch,
  mergeFromKeras,
  mergeOps,
  mergeOutFrac,
  mergeShifts,
  mergeView,
  type QMerge,
} from './merge.js';
import { isChannelsAxis } from './kerasFields.js';
import type { OpModule } from './types.js';
import { CONCAT_OPTIONS, noConstantInputs } from './tfliteFields.js';

const KIND = 'concat';

export interface QConcat extends QMerge {
  /** Channels of each input, in order (the output has their sum). */
  channels: number[];
}

/** Copies each input's channels of every position into its slice of the output. */
function concatenate<A extends Float32Array | Int8Array>(
  xs: ArrayLike<number>[],
  channels: number[],
  out: A,
  value: (k: number, v: number) => number,
): A {
  const C = channels.reduce((a, b) => a + b, 0);
  const positions = out.length / C;
  for (let p = 0; p < positions; p++) {
    let at = p * C;
    xs.forEach((x, k) => {
      const Ck = channels[k];
      for (let c = 0; c < Ck; c++) out[at + c] = value(k, x[p * Ck + c]);
      at += Ck;
    });
  }
  return out;
}

const ops = mergeOps(KIND, () => new Int8Array(0));

export const concat: OpModule<Layer, QConcat> = {
  kind: KIND,
  title: 'Concatenate',
  infer(_l, xs, fail) {
    checkMergeInputs(xs, fail, true);
    const flat = xs[0].flat;
    if (xs.some((x) => x.flat !== flat)) fail('mixes feature vectors and sequences');
    const shape = [...xs[0].shape];
    shape[shape.length - 1] = xs.reduce((a, x) => a + channelsOf(x.shape), 0);
    return { shape, flat };
  },
  arch: mergeArch(KIND),
  keras: {
    classNames: ['Concatenate'],
    fromKeras(l, k) {
      const axis = l.config.axis ?? -1;
      // Axis -1 or the last axis of a [batch, T, C] / [batch, H, W, C] tensor: the channels.
      if (!isChannelsAxis(l, k, axis)) k.unsupported(l, `axis ${axis} (only the channels axis, -1)`);
      return mergeFromKeras(KIND, l);
    },
  },
  tflite: {
    opNames: ['CONCATENATION'],
    fromTflite(ctx) {
      const rank = ctx.outShape.length + 1;
      const axis = ctx.options.int(CONCAT_OPTIONS.axis);
      if ((axis < 0 ? axis + rank : axis) !== rank - 1)
        ctx.unsupported(`axis ${axis} (only the channels axis)`);
      if (noConstantInputs(ctx) < 0) ctx.unsupported('concatenating a constant');
      const act = ctx.activation(CONCAT_OPTIONS.activation, false);
      return { layers: [{ kind: KIND, name: ctx.name }, ...act.after] };
    },
  },
  onnx: onnxConcat(KIND),
  tfjs: {
    layer: (l) => tf.layers.concatenate({ name: l.name, axis: -1 }),
    forward: (_l, xs) => tf.concat(xs, -1),
  },
  floatForward: (_l, info, _p, xs) =>
    concatenate(xs, info.inShapes.map(channelsOf), new Float32Array(sizeOf(info.outShape)), (_k, v) => v),
  requantizes: true,
  quantize(_l, ctx) {
    const outFrac = mergeOutFrac(ctx.inFracs, fracBitsFor(ctx.outRange, 8));
    const channels = ctx.info.inShapes.map(channelsOf);
    const layer: QConcat = { ...ctx.base, kind: KIND, inFracs: [...ctx.inFracs], outFrac, channels };
    return { layer, outFrac };
  },
  quantized: {
    ...ops,
    schema: (ops.schema as z.ZodObject).extend({ channels: z.array(posInt).min(2) }),
    check(q, ctx) {
      ops.check(q, ctx);
      const want = ctx.info.inShapes.map(channelsOf);
      if (q.channels.length !== want.length || q.channels.some((c, i) => c !== want[i]))
        ctx.fail(`channels [${q.channels.join(', ')}] differ from its inputs' [${want.join(', ')}]`);
    },
    reference(q, xs) {
      const shifts = mergeShifts(q);
      return concatenate(xs, q.channels, new Int8Array(sizeOf(q.outShape)), (k, v) => rescale8(v, shifts[k]));
    },
  },
  codegen: {
    alias: 'none',
    view(q, base) {
      const outC = channelsOf(q.outShape);
      const view = mergeView(q, base, { outC, positions: sizeOf(q.outShape) / outC });
      const offsets = q.channels.map((_c, k) => q.channels.slice(0, k).reduce((a, b) => a + b, 0));
      const merged = (view.merged as object[]).map((m, k) => ({
        ...m,
        channels: q.channels[k],
        offset: offsets[k],
      }));
      return { ...view, merged };
    },
  },
};
