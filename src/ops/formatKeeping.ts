// What the operators that keep their input's fixed-point format share (pooling aside): the
// quantized layer carries that format as `frac`, and its .tfm entry has no other fields.
import { z } from 'zod';
import { archName } from './archFields.js';
import { channelsOf, sizeOf, spatialOf, type Layer, type Shape } from '../graph/types.js';
import { poolWindows, wholeWindow, type Reduction } from './window.js';
import type { QLayer } from '../qmodel/model.js';
import { fracBits, layerBaseFields } from '../qmodel/schemaParts.js';
import type { Int8Ops, OpModule, QuantizeContext, Quantized, QuantizedOps } from './types.js';
import { checkKeepsQuant, int8Base, int8Schema, type Int8Q } from './int8.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';
import type * as tf from '@tensorflow/tfjs';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';

export interface QFormatKeeping extends QLayer {
  frac: number;
}

/** A layer that moves or keeps values under TFLite's int8 scheme (RESHAPE): its input's quantization. */
export function keepingInt8(
  kind: string,
  reference: (q: Int8Q, x: Int8Array[]) => Int8Array,
): Int8Ops<Layer, Int8Q> {
  return {
    fromTflite: (_l, ctx) => ({ ...int8Base(ctx), kind }),
    quantized: {
      schema: int8Schema(kind, {}, false),
      toIr: (q) => ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
      outFrac: () => 0,
      outQuant: (q) => q.output,
      check: (q, ctx) => checkKeepsQuant(q, ctx),
      reference,
    },
  };
}

/** A layer without attributes of its own (e.g. from an architecture entry `{ "type": ... }`). */
export function plainArch(kind: string) {
  return {
    schema: z.strictObject({ type: z.literal(kind), name: archName }),
    toLayer: (_s: Record<string, unknown>, { name }: { name: string }): Layer => ({ kind, name }),
  };
}

export function quantizeKeeping(kind: string, ctx: QuantizeContext): Quantized {
  const frac = ctx.inFracs[0];
  const layer: QFormatKeeping = { ...ctx.base, kind, frac };
  return { layer, outFrac: frac };
}

/** Quantized operations of a format-keeping layer with the given integer kernel. */
export function keepingOps(
  kind: string,
  reference: (q: QFormatKeeping, x: Int8Array[]) => Int8Array,
): QuantizedOps<QFormatKeeping> {
  return {
    schema: z.strictObject({ kind: z.literal(kind), ...layerBaseFields, frac: fracBits }),
    toIr: (q) => ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }),
    outFrac: (q) => q.frac,
    check(q, { inFracs, fail }) {
      if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
    },
    reference,
  };
}

/** What distinguishes one global pooling operator (over all positions, per channel). */
export interface GlobalPoolSpec {
  kind: string;
  title: string;
  /** Spatial axes of the input: 1 for [T, C], 2 for [H, W, C]. */
  rank: 1 | 2;
  kerasClassNames: string[];
  tfjsLayer(name: string): tf.layers.Layer;
  tfjsForward(x: tf.Tensor): tf.Tensor;
  /** Reduces the values of one channel, float and integer (semantics.ts). */
  float: Reduction;
  int: Reduction;
  view(base: LayerViewBase, positions: number): LayerView;
  /** The operator's TFLite mapping (MEAN, REDUCE_MAX). */
  tflite?: TfliteMapping;
  /** The operator's ONNX mapping (GlobalAveragePool, ReduceMean, ...). */
  onnx?: OnnxMapping;
}

/**
 * Reduces each channel over all positions: channels last, the positions of [T, C] and [H, W, C]
 * alike are consecutive rows of C values, so this is one window over all of them.
 */
function perChannel<A extends Float32Array | Int8Array>(
  x: ArrayLike<number>,
  shape: Shape,
  out: A,
  r: Reduction,
): A {
  return poolWindows(x, wholeWindow(sizeOf(spatialOf(shape))), channelsOf(shape), out, r);
}

/** A global pooling operator: [T, C] or [H, W, C] to the feature vector [1, C] in its input's format. */
export function globalPoolOp(spec: GlobalPoolSpec): OpModule<Layer, QFormatKeeping> {
  const { kind } = spec;
  return {
    kind,
    title: spec.title,
    ...(spec.tflite ? { tflite: spec.tflite } : {}),
    ...(spec.onnx ? { onnx: spec.onnx } : {}),
    infer(_l, [x], fail) {
      if (x.flat || x.shape.length !== spec.rank + 1)
        fail(spec.rank === 1 ? 'global pooling needs a sequence [T, C]' : 'global pooling needs [H, W, C]');
      return { shape: [1, channelsOf(x.shape)], flat: true };
    },
    arch: plainArch(kind),
    keras: {
      classNames: spec.kerasClassNames,
      fromKeras(l, k) {
        k.checkChannelsLast(l);
        if (l.config.keepdims) k.unsupported(l, 'keepdims true');
        return { layers: [{ kind, name: l.name }] };
      },
    },
    tfjs: { layer: (l) => spec.tfjsLayer(l.name), forward: (_l, [x]) => spec.tfjsForward(x) },
    floatForward: (_l, info, _p, [x]) =>
      perChannel(x, info.inShape, new Float32Array(channelsOf(info.inShape)), spec.float),
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    quantize: (_l, ctx) => quantizeKeeping(kind, ctx),
    quantized: keepingOps(kind, (q, [x]) =>
      perChannel(x, q.inShape, new Int8Array(channelsOf(q.inShape)), spec.int),
    ),
    codegen: { alias: 'none', view: (q, base) => spec.view(base, sizeOf(spatialOf(q.inShape))) },
  };
}
