// What ZeroPadding1D and ZeroPadding2D share: zeros around the positions of [T, C] or [H, W, C],
// in the input's format (zero is int8 0 in any format). The 1D kind is the 2D one with a single
// row, in the float forward, the reference and the C kernel alike.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { channelsOf, sizeOf, spatialOf, type Layer, type Shape } from '../graph/types.js';
import { fracBits, layerBaseFields, natInt } from '../qmodel/schemaParts.js';
import type { QLayer } from '../qmodel/model.js';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';
import { plainArch, quantizeKeeping } from './formatKeeping.js';
import type { KerasContext, KerasLayer, OpModule } from './types.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';

/** Zeros before and after the positions along each spatial axis. */
export type AxisPads = [number, number][];

/** How a kind names its padding: a list of (before, after) per spatial axis in its own layout. */
export interface PadRank<P> {
  rank: 1 | 2;
  schema: z.ZodType<P>;
  pads(p: P): AxisPads;
  fromKeras(l: KerasLayer, k: KerasContext): P;
  tfjsLayer(name: string, p: P): tf.layers.Layer;
  /** The kind's TFLite mapping (PAD, PADV2 with zeros). */
  tflite?: TfliteMapping;
  /** The kind's ONNX mapping (Pad with zeros). */
  onnx?: OnnxMapping;
}

export interface ZeroPadLayer<P> extends Layer {
  padding: P;
}
export interface QZeroPad<P> extends QLayer {
  padding: P;
  frac: number;
}

/** Writes x (shape `inShape`) into a zeroed tensor with `pads` around its positions. */
function padPositions<A extends Float32Array | Int8Array>(
  x: ArrayLike<number>,
  inShape: Shape,
  pads: AxisPads,
  out: A,
): A {
  const [[top], [left, right]] = pads.length === 1 ? [[0, 0], pads[0]] : pads;
  const [H, W] = spatialOf(inShape).length === 1 ? [1, inShape[0]] : spatialOf(inShape);
  const C = channelsOf(inShape);
  const OW = W + left + right;
  for (let h = 0; h < H; h++)
    for (let i = 0; i < W * C; i++) out[((h + top) * OW + left) * C + i] = x[h * W * C + i];
  return out;
}

/** The shape after padding. */
function paddedShape(inShape: Shape, pads: AxisPads): Shape {
  return [...spatialOf(inShape).map((n, a) => n + pads[a][0] + pads[a][1]), channelsOf(inShape)];
}

export function zeroPadOp<P>(
  kind: string,
  title: string,
  rank: PadRank<P>,
): OpModule<ZeroPadLayer<P>, QZeroPad<P>> {
  const plain = plainArch(kind);
  const archSchema = plain.schema.extend({ padding: rank.schema });
  return {
    kind,
    title,
    ...(rank.tflite ? { tflite: rank.tflite } : {}),
    ...(rank.onnx ? { onnx: rank.onnx } : {}),
    infer(l, [x], fail) {
      if (x.flat || x.shape.length !== rank.rank + 1)
        fail(rank.rank === 1 ? 'zero padding needs a sequence [T, C]' : 'zero padding needs [H, W, C]');
      return { shape: paddedShape(x.shape, rank.pads(l.padding)), flat: false };
    },
    arch: {
      schema: archSchema,
      toLayer: (s, { name }) => ({ kind, name, padding: (s as z.output<typeof archSchema>).padding as P }),
    },
    keras: {
      classNames: [title],
      fromKeras(l, k) {
        k.checkChannelsLast(l);
        return { layers: [{ kind, name: l.name, padding: rank.fromKeras(l, k) } as ZeroPadLayer<P>] };
      },
    },
    tfjs: {
      layer: (l) => rank.tfjsLayer(l.name, l.padding),
      forward: (l, [x]) => tf.pad(x, [[0, 0], ...rank.pads(l.padding), [0, 0]]),
    },
    floatForward: (l, info, _p, [x]) =>
      padPositions(x, info.inShape, rank.pads(l.padding), new Float32Array(sizeOf(info.outShape))),
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    quantize(l, ctx) {
      const q = quantizeKeeping(kind, ctx);
      if ('skip' in q) return q;
      const { frac, ...rest } = q.layer as QZeroPad<P>;
      return { layer: { ...rest, padding: l.padding, frac } as QZeroPad<P>, outFrac: q.outFrac };
    },
    quantized: {
      schema: z.strictObject({
        kind: z.literal(kind),
        ...layerBaseFields,
        padding: rank.schema,
        frac: fracBits,
      }),
      toIr: (q) => ({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}), padding: q.padding }),
      outFrac: (q) => q.frac,
      check(q, { inFracs, fail }) {
        if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
      },
      reference: (q, [x]) =>
        padPositions(x, q.inShape, rank.pads(q.padding), new Int8Array(sizeOf(q.outShape))),
    },
    codegen: { alias: 'none', view: (q, base) => padView(q.inShape, rank.pads(q.padding), base, title) },
  };
}

/** The C kernel's numbers: rows of W*C bytes, H of them, with the zeros around. */
function padView(inShape: Shape, pads: AxisPads, base: LayerViewBase, title: string): LayerView {
  const [[top, bottom], [left, right]] = pads.length === 1 ? [[0, 0], pads[0]] : pads;
  const [H, W] = spatialOf(inShape).length === 1 ? [1, inShape[0]] : spatialOf(inShape);
  const C = channelsOf(inShape);
  return { ...base, title, H, W, C, top, bottom, left, right, OH: H + top + bottom, OW: W + left + right };
}

/** A Keras padding: an int n (n, n), or a pair. */
export function kerasPads(l: KerasLayer, k: KerasContext, v: unknown): [number, number] {
  if (Number.isInteger(v) && (v as number) >= 0) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n >= 0))
    return [v[0] as number, v[1] as number];
  return k.unsupported(l, `padding ${JSON.stringify(v)}`);
}

export const padPair = z.tuple([natInt, natInt]);
