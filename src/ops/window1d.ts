// What the 1D window operators share: the window positions that exist (Conv1D's windows too), and
// the pooling operator itself (poolOp), which MaxPooling1D and AveragePooling1D instantiate.
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { archName } from './archFields.js';
import { roundedAverage } from '../fixedpoint/semantics.js';
import { outLength, padLeft, type Layer, type Padding, type Shape } from '../graph/types.js';
import {
  layerBaseFields,
  fracBits,
  natInt,
  padding as paddingSchema,
  posInt,
} from '../qmodel/schemaParts.js';
import type { QLayer } from '../qmodel/model.js';
import type { CheckContext, KerasContext, KerasLayer, OpModule } from './types.js';

/** First output position whose window [t*stride - pad, +k) misses the input entirely, else -1. */
export function windowOutside(T: number, k: number, stride: number, pad: number, L: number): number {
  for (let t = 0; t < L; t++) {
    const start = t * stride - pad;
    if (start + k <= 0 || start >= T) return t;
  }
  return -1;
}

/** Some window runs over an edge of the input ('same' padding). */
export function windowEdges(T: number, k: number, stride: number, pad: number, L: number): boolean {
  for (let t = 0; t < L; t++) {
    const start = t * stride - pad;
    if (start < 0 || start + k > T) return true;
  }
  return false;
}

export interface Pool1DLayer extends Layer {
  poolSize: number;
  stride: number;
  padding: Padding;
}

/** Pooling keeps the input's format; 'same' windows ignore padded positions (max) or do not count them (avg). */
export interface QPool1D extends QLayer {
  poolSize: number;
  stride: number;
  padding: Padding;
  padLeft: number;
  frac: number;
}

/** What distinguishes one pooling operator: its names, tfjs layer and reduction. */
export interface PoolSpec<L extends Pool1DLayer> {
  kind: L['kind'];
  title: string;
  tfjsLayer(args: { name: string; poolSize: number; strides: number; padding: Padding }): tf.layers.Layer;
  /** tfjs pools in 2D: the max or average pool over [N, L, 1, C]. */
  max: boolean;
  /** The reduction of one window's existing values, float and integer (semantics.ts). */
  float: Reduction;
  int: Reduction;
}

/** A pooling operator: windows over time, per channel, keeping the input's format. */
export function poolOp<L extends Pool1DLayer, Q extends QPool1D>(spec: PoolSpec<L>): OpModule<L, Q> {
  const { kind } = spec;
  const archSchema = z.strictObject({
    type: z.literal(kind),
    name: archName,
    poolSize: posInt,
    stride: posInt.optional(),
    padding: paddingSchema.default('valid'),
  });
  return {
    kind,
    title: spec.title,
    infer(l, [x], fail) {
      if (x.flat) fail('pooling needs a sequence');
      const L = outLength(x.shape[0], l.poolSize, l.stride, l.padding);
      if (L < 1) fail(`pool ${l.poolSize} is longer than the sequence`);
      return { shape: [L, x.shape[1]], flat: false };
    },
    arch: {
      schema: archSchema,
      toLayer(s, { name }) {
        // The stride defaults to the pool size.
        const a = s as z.output<typeof archSchema>;
        return { kind, name, poolSize: a.poolSize, stride: a.stride ?? a.poolSize, padding: a.padding } as L;
      },
    },
    keras: { classNames: [spec.title], fromKeras: (l, k) => ({ layers: [poolFromKeras(kind, l, k)] }) },
    tfjs: {
      layer: (l) =>
        spec.tfjsLayer({ name: l.name, poolSize: l.poolSize, strides: l.stride, padding: l.padding }),
      forward(l, [x]) {
        const x4 = x.expandDims(2) as tf.Tensor4D;
        const pool = spec.max ? tf.maxPool : tf.avgPool;
        return pool(x4, [l.poolSize, 1], [l.stride, 1], l.padding).squeeze([2]);
      },
    },
    floatForward(l, info, _p, [x]) {
      const g = { ...l, padLeft: padLeft(info.inShape[0], l.poolSize, l.stride, l.padding) };
      const out = new Float32Array(info.outShape[0] * info.outShape[1]);
      return poolWindows(x, info.inShape, info.outShape[0], g, out, spec.float);
    },
    pruning: { keepInputs: (_l, p) => ({ params: p, stop: false }) },
    quantize(l, ctx) {
      const frac = ctx.inFracs[0];
      const padL = padLeft(ctx.base.inShape[0], l.poolSize, l.stride, l.padding);
      const q: QPool1D = {
        ...ctx.base,
        kind,
        poolSize: l.poolSize,
        stride: l.stride,
        padding: l.padding,
        padLeft: padL,
        frac,
      };
      return { layer: q, outFrac: frac };
    },
    quantized: {
      schema: z.strictObject({
        kind: z.literal(kind),
        ...layerBaseFields,
        poolSize: posInt,
        stride: posInt,
        padding: paddingSchema,
        padLeft: natInt,
        frac: fracBits,
      }),
      toIr: (q) =>
        ({
          kind,
          name: q.name,
          ...(q.inputs ? { inputs: q.inputs } : {}),
          poolSize: q.poolSize,
          stride: q.stride,
          padding: q.padding,
        }) as L,
      outFrac: (q) => q.frac,
      check: (q, ctx) => checkPool(q, ctx),
      reference: (q, [x]) =>
        poolWindows(x, q.inShape, q.outShape[0], q, new Int8Array(q.outShape[0] * q.outShape[1]), spec.int),
    },
    codegen: {
      alias: 'none',
      view: (q, base) => ({
        ...base,
        poolSize: q.poolSize,
        stride: q.stride,
        padLeft: q.padLeft,
        edges: windowEdges(base.inT, q.poolSize, q.stride, q.padLeft, base.outT),
      }),
    },
  };
}

function poolFromKeras<L extends Pool1DLayer>(kind: L['kind'], l: KerasLayer, k: KerasContext): L {
  k.checkChannelsLast(l);
  const size = k.one(l.config.pool_size ?? 2);
  const strides = l.config.strides;
  return {
    kind,
    name: l.name,
    poolSize: size,
    stride: strides === null || strides === undefined ? size : k.one(strides),
    padding: k.padding(l),
  } as L;
}

/** A quantized pool keeps its input's format; its padding and windows must be the IR's. */
function checkPool(q: QPool1D, { info, inFracs, fail }: CheckContext): void {
  const [T] = info.inShape;
  if (q.frac !== inFracs[0]) fail(`frac ${q.frac} differs from its input's format ${inFracs[0]}`);
  const expected = padLeft(T, q.poolSize, q.stride, q.padding);
  if (q.padLeft !== expected) fail(`padLeft ${q.padLeft}, expected ${expected} for '${q.padding}'`);
  const outside = windowOutside(T, q.poolSize, q.stride, q.padLeft, info.outShape[0]);
  if (outside >= 0) fail(`output position ${outside} has a window outside the input`);
}

/** How a pooling window's values become one: an accumulator over the values that exist. */
export interface Reduction {
  start: number;
  add(acc: number, v: number): number;
  end(acc: number, n: number): number;
}

/** Maximum; `start` is the smallest value the type holds (-Infinity for floats, -128 for int8). */
export const maximum = (start: number): Reduction => ({ start, add: Math.max, end: (acc) => acc });
/** Float mean, summed in window order. */
export const floatMean: Reduction = { start: 0, add: (acc, v) => acc + v, end: (acc, n) => acc / n };
/** Integer mean as the chip rounds it (semantics.ts roundedAverage). */
export const roundedMean: Reduction = { start: 0, add: (acc, v) => acc + v, end: roundedAverage };

/**
 * Reduces each window's existing positions, per channel (x: [T, C] channels last). Float forward
 * and integer reference alike; global pooling is one window of all T steps.
 */
export function poolWindows<A extends Float32Array | Int8Array>(
  x: ArrayLike<number>,
  [T, C]: Shape,
  L: number,
  g: { poolSize: number; stride: number; padLeft: number },
  out: A,
  r: Reduction,
): A {
  for (let t = 0; t < L; t++) {
    const start = t * g.stride - g.padLeft;
    const j0 = Math.max(0, -start);
    const j1 = Math.min(g.poolSize, T - start);
    for (let c = 0; c < C; c++) {
      let acc = r.start;
      for (let j = j0; j < j1; j++) acc = r.add(acc, x[(start + j) * C + c]);
      out[t * C + c] = r.end(acc, j1 - j0);
    }
  }
  return out;
}
