// The pooling operators over one spatial axis (MaxPooling1D, AveragePooling1D on [T, C]) or two
// (MaxPooling2D, AveragePooling2D on [H, W, C]): windows per channel, keeping the input's format.
// What differs between the ranks is only how a layer names its window (a PoolRank); the shapes,
// the reductions (window.ts), the training forward, the checks and the quantization are shared.
// Under TFLite's int8 scheme the same templates take TFLite's average (tfl_average) and the fused
// activation's clamp.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { archName } from './archFields.js';
import { channelsOf, spatialOf, type Layer, type Padding, type Shape } from '../graph/types.js';
import {
  layerBaseFields,
  fracBits,
  natInt,
  padding as paddingSchema,
  posInt,
} from '../qmodel/schemaParts.js';
import type { QLayer } from '../qmodel/model.js';
import type { LayerView, LayerViewBase } from '../codegen/viewTypes.js';
import type { CheckContext, Int8Ops, KerasContext, KerasLayer, OpModule } from './types.js';
import { checkKeepsQuant, int8Base, int8Schema, rangeOf, type Int8Q } from './int8.js';
import { averagePool, clamp } from '../fixedpoint/tflite.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';
import {
  axisWindows,
  poolWindows,
  windowEdges,
  windowOutside,
  maximum,
  type AxisWindow,
  type Reduction,
} from './window.js';
import { trainablePool } from './poolTrain.js';

export interface PoolLayer extends Layer {
  padding: Padding;
}
export interface Pool1DLayer extends PoolLayer {
  poolSize: number;
  stride: number;
}
export interface Pool2DLayer extends PoolLayer {
  poolSize: [number, number];
  strides: [number, number];
}

/** Pooling keeps the input's format; 'same' windows ignore padded positions (max) or do not count them (avg). */
export interface QPool extends QLayer {
  padding: Padding;
  frac: number;
}
export interface QPool1D extends QPool {
  poolSize: number;
  stride: number;
  padLeft: number;
}
export interface QPool2D extends QPool {
  poolSize: [number, number];
  strides: [number, number];
  /** Zeros before the first row and column: [top, left] (as the 2D convolutions name it). */
  pad: [number, number];
}

/** A window along each spatial axis: sizes, strides and (quantized) the padding before the first. */
interface Window {
  k: number[];
  stride: number[];
}

/** How a layer of one rank names its window, in architecture files, Keras, tfjs, .tfm and C. */
interface PoolRank<L extends PoolLayer, Q extends QPool> {
  rank: 1 | 2;
  archFields: z.ZodRawShape;
  /** The window attributes of an architecture entry (the stride defaults to the pool size). */
  fromArch(a: Record<string, unknown>): Window;
  fromKeras(l: KerasLayer, k: KerasContext): Window;
  window(l: L): Window;
  /** tfjs layer arguments. */
  tfjsArgs(l: L): { poolSize: number | [number, number]; strides: number | [number, number] };
  /** The layer's window attributes, in its own field names. */
  fields(w: Window): Partial<L>;
  qSchemaFields: z.ZodRawShape;
  /** The .tfm fields, in the schema's order (the header's bytes follow it). */
  qFields(w: Window, padding: Padding, pads: number[]): Partial<Q>;
  qWindow(q: Q): Window & { pads: number[] };
  view(q: Q, base: LayerViewBase, axes: AxisWindow[]): LayerView;
}

const pair = z.union([posInt, z.tuple([posInt, posInt])]);
const toPair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** A Keras 2D size: an int or a list of two. */
function kerasPair(l: KerasLayer, k: KerasContext, v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n) && n > 0))
    return [v[0] as number, v[1] as number];
  return k.unsupported(l, `${what} ${JSON.stringify(v)}`);
}

export const RANK1: PoolRank<Pool1DLayer, QPool1D> = {
  rank: 1,
  archFields: { poolSize: posInt, stride: posInt.optional() },
  fromArch: (a) => {
    const k = a.poolSize as number;
    return { k: [k], stride: [(a.stride as number | undefined) ?? k] };
  },
  fromKeras(l, k) {
    const size = k.one(l.config.pool_size ?? 2);
    const s = l.config.strides;
    return { k: [size], stride: [s === null || s === undefined ? size : k.one(s)] };
  },
  window: (l) => ({ k: [l.poolSize], stride: [l.stride] }),
  tfjsArgs: (l) => ({ poolSize: l.poolSize, strides: l.stride }),
  fields: (w) => ({ poolSize: w.k[0], stride: w.stride[0] }),
  qSchemaFields: { poolSize: posInt, stride: posInt, padding: paddingSchema, padLeft: natInt },
  qFields: (w, padding, pads) => ({ poolSize: w.k[0], stride: w.stride[0], padding, padLeft: pads[0] }),
  qWindow: (q) => ({ k: [q.poolSize], stride: [q.stride], pads: [q.padLeft] }),
  view: (q, base, [t]) => ({
    ...base,
    poolSize: q.poolSize,
    stride: q.stride,
    padLeft: q.padLeft,
    edges: windowEdges(t.inLen, t.k, t.stride, t.pad, t.outLen),
  }),
};

export const RANK2: PoolRank<Pool2DLayer, QPool2D> = {
  rank: 2,
  archFields: { poolSize: pair, strides: pair.optional() },
  fromArch: (a) => {
    const k = toPair(a.poolSize as number | [number, number]);
    return { k, stride: toPair((a.strides as number | [number, number] | undefined) ?? k) };
  },
  fromKeras(l, k) {
    const size = kerasPair(l, k, l.config.pool_size ?? [2, 2], 'pool_size');
    const s = l.config.strides;
    return { k: size, stride: s === null || s === undefined ? size : kerasPair(l, k, s, 'strides') };
  },
  window: (l) => ({ k: [...l.poolSize], stride: [...l.strides] }),
  tfjsArgs: (l) => ({ poolSize: l.poolSize, strides: l.strides }),
  fields: (w) => ({ poolSize: [w.k[0], w.k[1]], strides: [w.stride[0], w.stride[1]] }),
  qSchemaFields: {
    poolSize: z.tuple([posInt, posInt]),
    strides: z.tuple([posInt, posInt]),
    padding: paddingSchema,
    pad: z.tuple([natInt, natInt]),
  },
  qFields: (w, padding, pads) => ({
    poolSize: [w.k[0], w.k[1]],
    strides: [w.stride[0], w.stride[1]],
    padding,
    pad: [pads[0], pads[1]],
  }),
  qWindow: (q) => ({ k: [...q.poolSize], stride: [...q.strides], pads: [...q.pad] }),
  view: (q, base, [h, w]) => ({
    ...base,
    inH: h.inLen,
    inW: w.inLen,
    C: channelsOf(q.inShape),
    outH: h.outLen,
    outW: w.outLen,
    ph: h.k,
    pw: w.k,
    sh: h.stride,
    sw: w.stride,
    padTop: h.pad,
    padLeft: w.pad,
    edgesH: windowEdges(h.inLen, h.k, h.stride, h.pad, h.outLen),
    edgesW: windowEdges(w.inLen, w.k, w.stride, w.pad, w.outLen),
    // Four channels' sums in 16-bit lanes: ph * pw * 128 must fit int16.
    simd: h.k * w.k <= 256,
  }),
};

/** What distinguishes one pooling operator: its names, tfjs layer and reduction. */
export interface PoolSpec<L extends PoolLayer> {
  kind: L['kind'];
  title: string;
  rank: typeof RANK1 | typeof RANK2;
  tfjsLayer(args: {
    name: string;
    poolSize: number | [number, number];
    strides: number | [number, number];
    padding: Padding;
  }): tf.layers.Layer;
  /** tfjs pools in 2D: the max or average pool over [N, H, W, C] ([N, T, 1, C] in 1D). */
  max: boolean;
  /** The reduction of one window's existing values, float and integer (semantics.ts). */
  float: Reduction;
  int: Reduction;
  /** The operator's TFLite mapping (MAX_POOL_2D, AVERAGE_POOL_2D). */
  tflite?: TfliteMapping;
  /** The operator's ONNX mapping (MaxPool, AveragePool). */
  onnx?: OnnxMapping;
}

/** The quantized layer's windows, with the padding it carries. */
/**
 * A 1D pooling may write its output over its input (planner 'shrink') when the stride exceeds the
 * left padding: the templates write output step t (channels in order, each after its window is read)
 * only over input step t, and every later window starts at step (t + 1) * stride - pad > t. 2D
 * windows keep their own buffer.
 */
function shrinkAlias(rank: PoolRank<PoolLayer, QPool>, q: QPool): 'shrink' | 'none' {
  const [a] = qAxes(rank, q);
  return rank.rank === 1 && a.stride > a.pad ? 'shrink' : 'none';
}

function qAxes(rank: PoolRank<PoolLayer, QPool>, q: QPool): AxisWindow[] {
  const w = rank.qWindow(q);
  return spatialOf(q.inShape).map((inLen, a) => ({
    inLen,
    outLen: q.outShape[a],
    k: w.k[a],
    stride: w.stride[a],
    pad: w.pads[a],
  }));
}

/** A pooling operator: windows over positions, per channel, keeping the input's format. */
export function poolOp<L extends PoolLayer, Q extends QPool>(spec: PoolSpec<L>): OpModule<L, Q> {
  const { kind } = spec;
  // Typed for any rank from here on: only the PoolRank knows its fields.
  const rank = spec.rank as unknown as PoolRank<PoolLayer, QPool>;
  const archSchema = z.strictObject({
    type: z.literal(kind),
    name: archName,
    ...rank.archFields,
    padding: paddingSchema.default('valid'),
  });
  const make = (name: string, w: Window, padding: Padding): L =>
    ({ kind, name, ...rank.fields(w), padding }) as unknown as L;
  const axesOf = (l: PoolLayer, inShape: Shape): AxisWindow[] => {
    const w = rank.window(l);
    return axisWindows(spatialOf(inShape), w.k, w.stride, l.padding);
  };
  return {
    kind,
    title: spec.title,
    ...(spec.tflite ? { tflite: spec.tflite } : {}),
    ...(spec.onnx ? { onnx: spec.onnx } : {}),
    infer(l, [x], fail) {
      if (x.flat || x.shape.length !== rank.rank + 1)
        fail(rank.rank === 1 ? 'pooling needs a sequence [T, C]' : 'pooling needs a tensor [H, W, C]');
      const axes = axesOf(l, x.shape);
      if (axes.some((a) => a.outLen < 1)) fail(`pool ${rank.window(l).k.join('x')} is larger than the input`);
      return { shape: [...axes.map((a) => a.outLen), channelsOf(x.shape)], flat: false };
    },
    arch: {
      schema: archSchema,
      toLayer(s, { name }) {
        const a = s as z.output<typeof archSchema>;
        return make(name, rank.fromArch(a), a.padding as Padding);
      },
    },
    keras: {
      classNames: [spec.title],
      fromKeras(l, k) {
        k.checkChannelsLast(l);
        return { layers: [make(l.name, rank.fromKeras(l, k), k.padding(l))] };
      },
    },
    tfjs: {
      layer: (l) => spec.tfjsLayer({ name: l.name, ...rank.tfjsArgs(l), padding: l.padding }),
      forward(l, [x], ctx) {
        const w = rank.window(l);
        if (ctx.customGrad) {
          // The backend's pooling gradients are wrong (poolTrain.ts): pool from sliced views.
          const x4 = (rank.rank === 2 ? x : x.expandDims(2)) as tf.Tensor4D;
          const axes = axisWindows(
            x4.shape.slice(1, 3),
            [...w.k, 1].slice(0, 2),
            [...w.stride, 1].slice(0, 2),
            l.padding,
          );
          const y = trainablePool(x4, axes, spec.max);
          return rank.rank === 2 ? y : y.squeeze([2]);
        }
        const pool = spec.max ? tf.maxPool : tf.avgPool;
        if (rank.rank === 2)
          return pool(x as tf.Tensor4D, w.k as [number, number], w.stride as [number, number], l.padding);
        const x4 = x.expandDims(2) as tf.Tensor4D;
        return pool(x4, [w.k[0], 1], [w.stride[0], 1], l.padding).squeeze([2]);
      },
    },
    floatForward(l, info, _p, [x]) {
      const out = new Float32Array(info.outShape.reduce((a, b) => a * b, 1));
      return poolWindows(x, axesOf(l, info.inShape), channelsOf(info.inShape), out, spec.float);
    },
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    quantize(l, ctx) {
      const frac = ctx.inFracs[0];
      const pads = axesOf(l, ctx.base.inShape).map((a) => a.pad);
      const q = { ...ctx.base, kind, ...rank.qFields(rank.window(l), l.padding, pads), frac } as Q;
      return { layer: q, outFrac: frac };
    },
    quantized: {
      schema: z.strictObject({
        kind: z.literal(kind),
        ...layerBaseFields,
        ...rank.qSchemaFields,
        frac: fracBits,
      }),
      toIr(q) {
        const w = rank.qWindow(q);
        const l = make(q.name, w, q.padding);
        return (q.inputs ? { ...l, inputs: q.inputs } : l) as L;
      },
      outFrac: (q) => q.frac,
      check: (q, ctx) => checkPool(rank, q, ctx),
      reference(q, [x]) {
        const out = new Int8Array(q.outShape.reduce((a, b) => a * b, 1));
        return poolWindows(x, qAxes(rank, q), channelsOf(q.inShape), out, spec.int);
      },
    },
    codegen: {
      alias: 'none',
      aliasOf: (q) => shrinkAlias(rank, q),
      view: (q, base) => rank.view(q, base, qAxes(rank, q)),
    },
    int8: poolInt8(spec, rank, make, axesOf),
  };
}

/** A pool under TFLite's int8 scheme: its window fields, the input's quantization, a fused clamp. */
type QPool8 = Omit<QPool, 'frac'> & Int8Q;

/** reference_integer_ops AveragePool's mean: (sum +- n/2) / n truncated, ties away from zero. */
const int8Mean: Reduction = {
  start: 0,
  add: (acc, v) => acc + v,
  end: (acc, n) => averagePool(acc, n, { min: -128, max: 127 }),
};

function poolInt8<L extends PoolLayer>(
  spec: PoolSpec<L>,
  rank: PoolRank<PoolLayer, QPool>,
  make: (name: string, w: Window, padding: Padding) => L,
  axesOf: (l: PoolLayer, inShape: Shape) => AxisWindow[],
): Int8Ops<L, QPool8> {
  // The window fields are the pow2 layer's; only `frac` differs.
  const asPool = (q: QPool8) => q as unknown as QPool;
  const reduction = spec.max ? maximum(-128) : int8Mean;
  return {
    fromTflite(l, ctx) {
      const pads = axesOf(l, ctx.base.inShape).map((a) => a.pad);
      return {
        ...int8Base(ctx),
        kind: spec.kind,
        ...rank.qFields(rank.window(l), l.padding, pads),
      } as QPool8;
    },
    quantized: {
      schema: int8Schema(spec.kind, rank.qSchemaFields, false),
      toIr(q) {
        const l = make(q.name, rank.qWindow(asPool(q)), q.padding);
        return q.inputs ? { ...l, inputs: q.inputs } : l;
      },
      outFrac: () => 0,
      outQuant: (q) => q.output,
      check(q, ctx) {
        checkKeepsQuant(q, ctx);
        checkWindows(rank, asPool(q), ctx.info, ctx.fail);
      },
      reference(q, [x]) {
        const out = new Int8Array(q.outShape.reduce((a, b) => a * b, 1));
        const y = poolWindows(x, qAxes(rank, asPool(q)), channelsOf(q.inShape), out, reduction);
        const { min, max } = rangeOf(q);
        return y.map((v) => clamp(v, min, max));
      },
    },
    codegen: {
      alias: 'none',
      aliasOf: (q) => shrinkAlias(rank, asPool(q)),
      view(q, base) {
        const { min, max } = rangeOf(q);
        return {
          ...rank.view(asPool(q), base, qAxes(rank, asPool(q))),
          // The pow2 templates with TFLite's average (tfl_average) and the fused activation's clamp.
          int8: true,
          actMin: min,
          actMax: max,
          clamp: min > -128 || max < 127,
          clampHi: max < 127,
          // The bounds in every byte of a word (SSUB8 + SEL on the Cortex-M4).
          actMin8: min & 0xff,
          actMax8: max & 0xff,
        };
      },
    },
  };
}

/** A quantized pool keeps its input's format; its padding and windows must be the IR's. */
function checkPool(rank: PoolRank<PoolLayer, QPool>, q: QPool, ctx: CheckContext): void {
  const { info, inFracs, fail } = ctx;
  if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
  checkWindows(rank, q, info, fail);
}

/** The padding and windows must be the IR's (both schemes). */
function checkWindows(
  rank: PoolRank<PoolLayer, QPool>,
  q: QPool,
  info: CheckContext['info'],
  fail: (why: string) => never,
): void {
  const w = rank.qWindow(q);
  const expected = axisWindows(spatialOf(info.inShape), w.k, w.stride, q.padding);
  expected.forEach((a, i) => {
    const side = rank.rank === 1 ? 'padLeft' : ['pad[0] (top)', 'pad[1] (left)'][i];
    if (w.pads[i] !== a.pad) fail(`${side} ${w.pads[i]}, expected ${a.pad} for '${q.padding}'`);
    const outside = windowOutside(a.inLen, a.k, a.stride, a.pad, a.outLen);
    if (outside >= 0) fail(`output position ${outside} has a window outside the input`);
  });
}
