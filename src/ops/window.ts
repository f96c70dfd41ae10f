// What the window operators share, over one spatial axis ([T, C]) or two ([H, W, C]): the window
// positions that exist along an axis (the convolutions' windows too), and the pooling reduction of
// each window's existing values, float and integer alike. The pooling operators are pool.ts.
import { roundedAverage } from '../fixedpoint/semantics.js';
import { outLength, padLeft, type Padding } from '../graph/types.js';

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

/** The windows along one spatial axis: output o reads inputs [o*stride - pad, +k) that exist. */
export interface AxisWindow {
  inLen: number;
  outLen: number;
  k: number;
  stride: number;
  pad: number;
}

/** The windows along each spatial axis of an input, Keras semantics. */
export function axisWindows(
  spatial: readonly number[],
  k: readonly number[],
  stride: readonly number[],
  padding: Padding,
): AxisWindow[] {
  return spatial.map((inLen, a) => ({
    inLen,
    outLen: outLength(inLen, k[a], stride[a], padding),
    k: k[a],
    stride: stride[a],
    pad: padLeft(inLen, k[a], stride[a], padding),
  }));
}

/** One window over every position (global pooling): the positions as one axis. */
export function wholeWindow(positions: number): AxisWindow[] {
  return [{ inLen: positions, outLen: 1, k: positions, stride: 1, pad: 0 }];
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

/** The input range [lo, hi) that window o of an axis covers. */
function covered(a: AxisWindow, o: number): [number, number] {
  const start = o * a.stride - a.pad;
  return [Math.max(0, start), Math.min(a.inLen, start + a.k)];
}

/** A single position: the missing first axis of a 1D input. */
const ONE: AxisWindow = { inLen: 1, outLen: 1, k: 1, stride: 1, pad: 0 };

/**
 * Reduces each window's existing positions, per channel, channels last ([T, C] with one axis,
 * [H, W, C] with two). Float forward and integer reference alike; positions are visited row by row.
 */
export function poolWindows<A extends Float32Array | Int8Array>(
  x: ArrayLike<number>,
  axes: readonly AxisWindow[],
  C: number,
  out: A,
  r: Reduction,
): A {
  const [ah, aw] = axes.length === 1 ? [ONE, axes[0]] : axes;
  const W = aw.inLen;
  for (let oh = 0; oh < ah.outLen; oh++) {
    const [h0, h1] = covered(ah, oh);
    for (let ow = 0; ow < aw.outLen; ow++) {
      const [w0, w1] = covered(aw, ow);
      const n = (h1 - h0) * (w1 - w0);
      const at = (oh * aw.outLen + ow) * C;
      for (let c = 0; c < C; c++) {
        let acc = r.start;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc = r.add(acc, x[(h * W + w) * C + c]);
        out[at + c] = r.end(acc, n);
      }
    }
  }
  return out;
}
