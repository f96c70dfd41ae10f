// conv2d with a hand-written gradient, for backends without Conv2DBackpropFilter/Input (wasm):
//   y[n,oy,ox,o]  = sum_{r,s,c} xpad[n, oy*sh + r*dh, ox*sw + s*dw, c] * w[r,s,c,o]
//   dW[r,s,c,o]   = sum_{n,oy,ox} xpad[n, oy*sh + r*dh, ox*sw + s*dw, c] * dy[n,oy,ox,o]
//                   -> one im2col matMul
//   dx            = conv2d (dilation dh, dw) of dy spread by the strides and padded by (k-1)*d, with w
//                   flipped along r and s and transposed to [kh, kw, Cout, Cin], cropped to the input.
// Keras allows strides or dilation above 1, not both (conv2d.ts checks), as tf.conv2d does.
import * as tf from '@tensorflow/tfjs';
import { outLength, padLeft, windowSpan, type Padding } from '../graph/types.js';

type Pair = [number, number];

/** Zero padding of a conv2d input, Keras semantics (extra padding bottom and right). */
export function padInput2d(
  x: tf.Tensor4D,
  k: Pair,
  strides: Pair,
  padding: Padding,
  dilation: Pair,
): tf.Tensor4D {
  if (padding === 'valid') return x;
  const pads = [1, 2].map((a) => {
    const i = a - 1;
    const L = x.shape[a];
    const lOut = outLength(L, k[i], strides[i], padding, dilation[i]);
    const left = padLeft(L, k[i], strides[i], padding, dilation[i]);
    const total = Math.max((lOut - 1) * strides[i] + windowSpan(k[i], dilation[i]) - L, 0);
    return [left, total - left] as Pair;
  });
  if (pads.every(([a, b]) => a === 0 && b === 0)) return x;
  return tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]);
}

/** [N*OH*OW, kh*kw*Cin]: row (n, oy, ox) holds the window's taps (r, s, c), r major. */
function im2col(xpad: tf.Tensor4D, k: Pair, strides: Pair, dilation: Pair, out: Pair): tf.Tensor2D {
  const [N, , , C] = xpad.shape;
  const taps: tf.Tensor4D[] = [];
  for (let r = 0; r < k[0]; r++)
    for (let s = 0; s < k[1]; s++) {
      const y0 = r * dilation[0];
      const x0 = s * dilation[1];
      const end = [N, y0 + (out[0] - 1) * strides[0] + 1, x0 + (out[1] - 1) * strides[1] + 1, C];
      taps.push(tf.stridedSlice(xpad, [0, y0, x0, 0], end, [1, strides[0], strides[1], 1]) as tf.Tensor4D);
    }
  const cols = taps.length === 1 ? taps[0] : tf.concat(taps, 3);
  return cols.reshape([N * out[0] * out[1], k[0] * k[1] * C]);
}

/** Spreads dy by the strides: zeros between rows and columns. */
function spread(dy: tf.Tensor4D, strides: Pair): tf.Tensor4D {
  let t = dy;
  for (const a of [1, 2] as const) {
    const s = strides[a - 1];
    if (s === 1) continue;
    const [N, H, W, C] = t.shape;
    const L = a === 1 ? H : W;
    const zerosShape: [number, number, number, number, number] =
      a === 1 ? [N, H, s - 1, W, C] : [N, H, W, s - 1, C];
    const withZeros = tf.concat([t.expandDims(a + 1), tf.zeros(zerosShape)], a + 1);
    const full = (
      a === 1 ? withZeros.reshape([N, H * s, W, C]) : withZeros.reshape([N, H, W * s, C])
    ) as tf.Tensor4D;
    const size: [number, number, number, number] =
      a === 1 ? [N, (L - 1) * s + 1, W, C] : [N, H, (L - 1) * s + 1, C];
    t = full.slice([0, 0, 0, 0], size);
  }
  return t;
}

/** conv2d(x [N,H,W,Cin], w [kh,kw,Cin,Cout]) whose gradients use only matMul, slices and a forward conv2d. */
export function conv2dCustomGrad(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  strides: Pair,
  padding: Padding,
  dilation: Pair,
): tf.Tensor4D {
  const k: Pair = [w.shape[0], w.shape[1]];
  const [, H, W] = x.shape;
  const out: Pair = [
    outLength(H, k[0], strides[0], padding, dilation[0]),
    outLength(W, k[1], strides[1], padding, dilation[1]),
  ];
  const top = padLeft(H, k[0], strides[0], padding, dilation[0]);
  const left = padLeft(W, k[1], strides[1], padding, dilation[1]);
  const f = tf.customGrad(
    (
      xIn: tf.Tensor | tf.GradSaveFunc,
      wIn: tf.Tensor | tf.GradSaveFunc,
      save: tf.Tensor | tf.GradSaveFunc,
    ) => {
      const xpad = padInput2d(xIn as tf.Tensor4D, k, strides, padding, dilation);
      const wa = wIn as tf.Tensor4D;
      (save as tf.GradSaveFunc)([xpad, wa]);
      const value = tf.conv2d(xpad, wa, strides, 'valid', 'NHWC', dilation);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [xp, wt] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [N, hPad, wPad, cIn] = xp.shape;
        const cOut = wt.shape[3];
        const dy4 = dy as tf.Tensor4D;
        const cols = im2col(xp, k, strides, dilation, out);
        const dW = tf
          .matMul(cols, dy4.reshape([N * out[0] * out[1], cOut]), true, false)
          .reshape([k[0], k[1], cIn, cOut]);
        const dys = spread(dy4, strides);
        const dyp = tf.pad(dys, [
          [0, 0],
          [(k[0] - 1) * dilation[0], hPad - dys.shape[1]],
          [(k[1] - 1) * dilation[1], wPad - dys.shape[2]],
          [0, 0],
        ]);
        const wf = tf.reverse(wt, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, Cout, Cin]
        const dxPad = tf.conv2d(dyp, wf, 1, 'valid', 'NHWC', dilation); // [N, hPad, wPad, Cin]
        const dx = dxPad.slice([0, top, left, 0], [N, H, W, cIn]);
        return [dx, dW];
      };
      return { value, gradFunc };
    },
  );
  return f(x, w) as tf.Tensor4D;
}
