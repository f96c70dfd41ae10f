// Pooling for training on backends whose pooling gradients are wrong: the WASM backend's
// MaxPoolGrad and AvgPoolGrad route gradients to the wrong inputs for most pool sizes and strides
// (1x1, kx1, 1xk, 'same' averages; test/ops/pool2d.test.ts compares with hand-counted gradients).
// Here a pool is built from ops whose gradients hold there: each of the kh*kw window offsets is a
// padded, sliced and subsampled view of the input; the max of those views, or their sum over the
// count of positions that exist. The values are the pool's; the gradients follow from the ops.
import * as tf from '@tensorflow/tfjs';
import type { AxisWindow } from './window.js';

/** Below any activation: padded positions never win a max (gradients to them are sliced away). */
const NEVER = -1e30;

/** The view of x [N, H, W, C] that window offset (i, j) of every output reads: [N, oh, ow, C]. */
function offsetView(xp: tf.Tensor4D, [ah, aw]: AxisWindow[], i: number, j: number): tf.Tensor4D {
  const [N, , , C] = xp.shape;
  // Rows i, i + sh, ...: a slice of oh * sh rows, folded as [oh, sh], keeping the first of each.
  let v: tf.Tensor = xp.slice([0, i, j, 0], [N, ah.outLen * ah.stride, aw.outLen * aw.stride, C]);
  v = v
    .reshape([N, ah.outLen, ah.stride, aw.outLen * aw.stride, C])
    .slice([0, 0, 0, 0, 0], [N, ah.outLen, 1, aw.outLen * aw.stride, C]);
  v = v
    .reshape([N, ah.outLen, aw.outLen, aw.stride, C])
    .slice([0, 0, 0, 0, 0], [N, ah.outLen, aw.outLen, 1, C]);
  return v.reshape([N, ah.outLen, aw.outLen, C]);
}

/** Input positions that exist in each output's window along one axis. */
function counts(a: AxisWindow): number[] {
  return Array.from({ length: a.outLen }, (_, o) => {
    const start = o * a.stride - a.pad;
    return Math.min(a.inLen, start + a.k) - Math.max(0, start);
  });
}

/** Max or average pool of x [N, H, W, C] over the windows of each axis (window.ts geometry). */
export function trainablePool(x: tf.Tensor4D, axes: AxisWindow[], max: boolean): tf.Tensor4D {
  // No tidy here: the tape needs the intermediate views; the caller's tidy frees them.
  {
    const [ah, aw] = axes;
    // Enough rows and columns after padding for every offset's oh * sh (ow * sw) slice.
    const extra = (a: AxisWindow) => Math.max(0, a.k - 1 + a.outLen * a.stride - a.pad - a.inLen);
    const xp = tf.pad(
      x,
      [
        [0, 0],
        [ah.pad, extra(ah)],
        [aw.pad, extra(aw)],
        [0, 0],
      ],
      max ? NEVER : 0,
    );
    let acc: tf.Tensor4D | undefined;
    for (let i = 0; i < ah.k; i++)
      for (let j = 0; j < aw.k; j++) {
        const v = offsetView(xp, axes, i, j);
        acc = acc === undefined ? v : ((max ? tf.maximum(acc, v) : tf.add(acc, v)) as tf.Tensor4D);
      }
    if (max) return acc!;
    const ch = counts(ah);
    const cw = counts(aw);
    const n = tf.tensor4d(
      ch.flatMap((a) => cw.map((b) => a * b)),
      [1, ah.outLen, aw.outLen, 1],
    );
    return tf.div(acc!, n);
  }
}
