// Fine-tuning under compression: pruning masks keep pruned weights at zero, and fake quantization
// with a straight-through estimator lets the float weights learn to sit well on the b-bit grid.
// The grid and the rounding are those of src/fixedpoint/semantics.ts (quantGrid, roundHalfUp), so a
// fake-quantized weight is exactly the value the integer quantizer will give it
// (test/compress/fakequant.test.ts).
import * as tf from '@tensorflow/tfjs';
import { INT8_MAX, INT8_MIN, quantGrid, type QuantGrid } from '../fixedpoint/semantics.js';
import { inferShapes, type Layer } from '../graph/ir.js';
import type { ModelGraph, NodeInfo } from '../graph/types.js';
import { opOf } from '../ops/registry.js';
import type { ForwardHooks } from '../train/forward.js';
import type { Masks } from './prune.js';

export interface FakeQuantSettings {
  /** Weight bits (2..8); undefined = no weight fake quantization. */
  bits?: number;
  perChannel: boolean;
  /** The graph fine-tuned: per-channel grids follow each operator's rows (its output channels). */
  graph: ModelGraph;
  /** Int8 fractional bits per layer output (fake-quantizes activations when given). */
  activationFrac?: Record<string, number>;
}

/**
 * semantics.roundHalfUp on a float32 tensor, in the form its comment gives: floor(x) plus one when
 * the fraction is at least 1/2. Every step is exact, where floor(x + 0.5) would round the sum.
 */
function roundHalfUp(x: tf.Tensor): tf.Tensor {
  const fl = tf.floor(x);
  return tf.add(fl, tf.cast(tf.greaterEqual(tf.sub(x, fl), 0.5), 'float32'));
}

/**
 * 2^frac as two float32 factors, each a power of two in float32's normal range: frac reaches about
 * 155 for a denormal maxAbs and 2^frac alone would overflow. Scaling by one, then the other, is
 * exact wherever the result is not far below 2^-126 (values that round to 0 either way).
 */
function splitScale(fracs: number[]): [number[], number[]] {
  const a = fracs.map((f) => Math.trunc(f / 2));
  return [a.map((x) => 2 ** x), fracs.map((f, i) => 2 ** (f - a[i]))];
}

/**
 * x onto the grid: quantizeValue(x, frac, bits) / 2^frac, as float32. `s1` * `s2` = 2^frac
 * (splitScale, broadcast against x), q saturated to [lo, hi].
 */
function gridRound(x: tf.Tensor, s1: tf.Tensor, s2: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const q = tf.clipByValue(roundHalfUp(tf.mul(tf.mul(x, s1), s2)), lo, hi);
  return tf.div(tf.div(q, s1), s2);
}

/**
 * Straight-through estimator: the forward value is the rounded one, the gradient passes to `x` as
 * if rounding were the identity (tfjs has no stopGradient, so it is a custom gradient).
 */
function straightThrough(x: tf.Tensor, s1: tf.Tensor, s2: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const f = tf.customGrad((v, a, b) => ({
    value: gridRound(v as tf.Tensor, a as tf.Tensor, b as tf.Tensor, lo, hi),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [
      dy as tf.Tensor,
      tf.zerosLike(a as tf.Tensor),
      tf.zerosLike(b as tf.Tensor),
    ],
  }));
  return f(x, s1, s2);
}

/** Fake quantization of `x` onto the grids of `grids` (one, or one per last-axis entry). */
function onGrids(x: tf.Tensor, grids: QuantGrid[], perChannel: boolean): tf.Tensor {
  const [a, b] = splitScale(grids.map((g) => g.frac));
  // Per channel: [1, ..., 1, Co], broadcast over the output channel (the last axis).
  const shape = perChannel ? x.shape.map((d, i) => (i === x.rank - 1 ? d : 1)) : [];
  const { lo, hi } = grids[0];
  return straightThrough(x, tf.tensor(a, shape, 'float32'), tf.tensor(b, shape, 'float32'), lo, hi);
}

/** max |w| of the whole tensor, or of each last-axis entry, read back to numbers. */
function maxAbs(w: tf.Tensor, perChannel: boolean): number[] {
  const m = tf.tidy(() => {
    const a = tf.abs(w);
    return perChannel ? tf.max(a, w.shape.map((_, i) => i).slice(0, -1)) : tf.max(a);
  });
  const values = Array.from(m.dataSync());
  m.dispose();
  return values;
}

/**
 * Fake-quantizes a kernel whose output channel is its last axis (Conv1D [k, Cin, Co], Dense
 * [F, Co]) as src/compress/quantize.ts will: the grid is semantics.quantGrid of the largest |w| of
 * the layer or of the channel (read back from the tensor: the fractional bits are a constant of the
 * step, no gradient flows through them). fakeQuantByRows does it for any operator's layout.
 */
export function fakeQuantKernel(w: tf.Tensor, bits: number, perChannel: boolean): tf.Tensor {
  const grids = maxAbs(w, perChannel).map((m) => quantGrid(m, bits));
  return onGrids(w, grids, perChannel);
}

/**
 * The output channel (weight row, src/qmodel/model.ts) of every kernel element, from the operator's
 * own row layout: a depthwise kernel [k, C, M] has its output channel c*M + m across two axes.
 */
export function rowOfElement(info: NodeInfo, size: number): Int32Array {
  const layout = opOf(info.layer.kind).weights;
  if (!layout) throw new Error(`layer '${info.layer.name}' has no weight rows`);
  // Element indices run through the layout (exact in float32 below 2^24 elements).
  const r = layout.rows(
    info.layer,
    info,
    Float32Array.from({ length: size }, (_, i) => i),
  );
  const row = new Int32Array(size).fill(-1);
  for (let i = 0; i < r.data.length; i++) row[r.data[i]] = Math.floor(i / r.rowLength);
  if (row.includes(-1)) throw new Error(`layer '${info.layer.name}': its rows leave kernel elements out`);
  return row;
}

/**
 * Fake-quantizes a kernel on the grids quantization gives its rows: one grid per layer, or one per
 * row (`rowOf` maps each element to its row), each from the largest |w| it covers.
 */
export function fakeQuantByRows(
  w: tf.Tensor,
  bits: number,
  perChannel: boolean,
  rowOf: Int32Array,
): tf.Tensor {
  if (!perChannel) return fakeQuantKernel(w, bits, false);
  const values = w.dataSync();
  const rows = Math.max(...rowOf) + 1;
  const m = new Array<number>(rows).fill(0);
  for (let i = 0; i < values.length; i++) m[rowOf[i]] = Math.max(m[rowOf[i]], Math.abs(values[i]));
  const grids = m.map((v) => quantGrid(v, bits));
  const [a, b] = splitScale(grids.map((g) => g.frac));
  // The scales of every element: its row's, laid out like the kernel.
  const s1 = tf.tensor(
    Float32Array.from(rowOf, (o) => a[o]),
    w.shape,
    'float32',
  );
  const s2 = tf.tensor(
    Float32Array.from(rowOf, (o) => b[o]),
    w.shape,
    'float32',
  );
  return straightThrough(w, s1, s2, grids[0].lo, grids[0].hi);
}

/** Forward hooks that apply masks, then weight and activation fake quantization. */
export function compressionHooks(masks: () => Masks, fq: FakeQuantSettings): ForwardHooks {
  const infos = new Map(inferShapes(fq.graph).map((n) => [n.layer.name, n]));
  const rowOf = new Map<string, Int32Array>();
  const rowsOfLayer = (layer: Layer, size: number): Int32Array => {
    let r = rowOf.get(layer.name);
    if (!r || r.length !== size) {
      const info = infos.get(layer.name);
      if (!info) throw new Error(`layer '${layer.name}' is not in the fine-tuned graph`);
      r = rowOfElement(info, size);
      rowOf.set(layer.name, r);
    }
    return r;
  };
  return {
    // Only `kernel` is fake-quantized: the deployable graph being fine-tuned has no other kernels
    // (composite layers such as separable convs are expanded before).
    weight: (layer: Layer, name, w) => {
      if (name !== 'kernel') return w;
      const m = masks()[layer.name];
      let out = m ? tf.mul(w, tf.tensor(m, w.shape, 'float32')) : w;
      if (fq.bits !== undefined)
        out = fakeQuantByRows(out, fq.bits, fq.perChannel, rowsOfLayer(layer, w.size));
      return out;
    },
    activation: fq.activationFrac
      ? (layer: Layer, y: tf.Tensor) => {
          const f = fq.activationFrac![layer.name];
          if (f === undefined) return y;
          // int8 with f fractional bits, as the requantized output of the layer.
          return onGrids(y, [{ frac: f, lo: INT8_MIN, hi: INT8_MAX }], false);
        }
      : undefined,
  };
}
