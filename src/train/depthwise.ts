// Depthwise conv2d with hand-written gradients, for backends without the depthwise backprop
// kernels (wasm has only the forward DepthwiseConv2dNative). On x padded explicitly (xpad):
//   y[n,oy,ox,c*M+m]  = sum_{i,j} xpad[n, oy*sh + i*dh, ox*sw + j*dw, c] * w[i,j,c,m]
//   dW[i,j,c,m]       = sum_{n,oy,ox} xpad[n, oy*sh + i*dh, ox*sw + j*dw, c] * dy[n,oy,ox,c*M+m]
//                       (one strided slice and a product summed over positions per tap)
//   dxpad[.., c]      = sum_m of the forward depthwise conv (dilation dh, dw) of dy dilated by the
//                       strides and padded by the span - 1, with w flipped along i and j
// then dx is dxpad cropped to the unpadded input.
import * as tf from '@tensorflow/tfjs';
import { outLength, padLeft, type ConvPadding } from '../graph/types.js';

/** The window of a depthwise conv: sizes, strides, dilations along (H, W), multiplier, padding. */
export interface DwWindow {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  mult: number;
  padding: ConvPadding;
}

interface Axis {
  out: number;
  before: number;
  /** Padded length: what the windows of all outputs read. */
  padded: number;
}

function axis(len: number, k: number, s: number, d: number, padding: ConvPadding): Axis {
  const out = outLength(len, k, s, padding, d);
  const before = padLeft(len, k, s, padding, d);
  const need = (out - 1) * s + (k - 1) * d + 1;
  return { out, before, padded: Math.max(need, before + len) };
}

/** Inserts s - 1 zeros between the entries of an axis (1 or 2) of [N, A, B, C]. */
function dilateAxis(t: tf.Tensor4D, ax: 1 | 2, s: number): tf.Tensor4D {
  if (s === 1) return t;
  const shape = t.shape;
  const zerosShape = [...shape.slice(0, ax + 1), s - 1, ...shape.slice(ax + 1)];
  const spread = tf.concat([t.expandDims(ax + 1), tf.zeros(zerosShape)], ax + 1);
  const merged = [...shape];
  merged[ax] = shape[ax] * s;
  const sizes = [...shape];
  sizes[ax] = (shape[ax] - 1) * s + 1;
  return spread.reshape(merged).slice([0, 0, 0, 0], sizes) as tf.Tensor4D;
}

/** Valid depthwise conv of a padded input (strides and dilations both > 1 go through a slice). */
function forwardValid(xpad: tf.Tensor4D, w: tf.Tensor4D, g: DwWindow, OH: number, OW: number): tf.Tensor4D {
  const dil: [number, number] = [g.dh, g.dw];
  const both = (g.sh > 1 || g.sw > 1) && (g.dh > 1 || g.dw > 1);
  const y = both
    ? tf.depthwiseConv2d(xpad, w, 1, 'valid', 'NHWC', dil)
    : tf.depthwiseConv2d(xpad, w, [g.sh, g.sw], 'valid', 'NHWC', dil);
  const [N, , , OC] = y.shape;
  if (both)
    return tf.stridedSlice(
      y,
      [0, 0, 0, 0],
      [N, (OH - 1) * g.sh + 1, (OW - 1) * g.sw + 1, OC],
      [1, g.sh, g.sw, 1],
    ) as tf.Tensor4D;
  return y.shape[1] === OH && y.shape[2] === OW ? y : (y.slice([0, 0, 0, 0], [N, OH, OW, OC]) as tf.Tensor4D);
}

/**
 * Depthwise conv of x [N, H, W, C] with w [kh, kw, C, M], Keras padding; with `custom` its
 * gradients use only the forward depthwise conv, slices, products and sums.
 */
export function depthwiseCustomGrad(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  g: DwWindow,
  custom: boolean,
): tf.Tensor4D {
  const [, H, Wd, C] = x.shape;
  const M = g.mult;
  const ah = axis(H, g.kh, g.sh, g.dh, g.padding);
  const aw = axis(Wd, g.kw, g.sw, g.dw, g.padding);
  const pad = (t: tf.Tensor4D): tf.Tensor4D =>
    ah.padded === H && aw.padded === Wd
      ? t
      : tf.pad(t, [
          [0, 0],
          [ah.before, ah.padded - H - ah.before],
          [aw.before, aw.padded - Wd - aw.before],
          [0, 0],
        ]);
  if (!custom) return forwardValid(pad(x), w, g, ah.out, aw.out);
  const f = tf.customGrad(
    (
      xIn: tf.Tensor | tf.GradSaveFunc,
      wIn: tf.Tensor | tf.GradSaveFunc,
      save: tf.Tensor | tf.GradSaveFunc,
    ) => {
      const xpad = pad(xIn as tf.Tensor4D);
      const wa = wIn as tf.Tensor4D;
      (save as tf.GradSaveFunc)([xpad, wa]);
      const value = forwardValid(xpad, wa, g, ah.out, aw.out);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [xp, wt] = saved as [tf.Tensor4D, tf.Tensor4D];
        const N = xp.shape[0];
        const [OH, OW] = [ah.out, aw.out];
        const P = N * OH * OW;
        const dy3 = dy.reshape([P, C, M]);
        const taps: tf.Tensor[] = [];
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const xs = tf.stridedSlice(
              xp,
              [0, i * g.dh, j * g.dw, 0],
              [N, i * g.dh + (OH - 1) * g.sh + 1, j * g.dw + (OW - 1) * g.sw + 1, C],
              [1, g.sh, g.sw, 1],
            );
            taps.push(tf.sum(tf.mul(xs.reshape([P, C, 1]), dy3), 0));
          }
        const dW = tf.stack(taps).reshape([g.kh, g.kw, C, M]);
        let dyd = dilateAxis(dy as tf.Tensor4D, 1, g.sh);
        dyd = dilateAxis(dyd, 2, g.sw);
        const dyp = tf.pad(dyd, [
          [0, 0],
          [(g.kh - 1) * g.dh, ah.padded - dyd.shape[1]],
          [(g.kw - 1) * g.dw, aw.padded - dyd.shape[2]],
          [0, 0],
        ]);
        const wf = tf.reverse(wt, [0, 1]).reshape([g.kh, g.kw, C * M, 1]) as tf.Tensor4D;
        const dxm = tf.depthwiseConv2d(dyp, wf, 1, 'valid', 'NHWC', [g.dh, g.dw]); // [N, PH, PW, C*M]
        const dxpad = M === 1 ? dxm : tf.sum(dxm.reshape([N * ah.padded * aw.padded, C, M]), 2);
        const dx = dxpad
          .reshape([N, ah.padded, aw.padded, C])
          .slice([0, ah.before, aw.before, 0], [N, H, Wd, C]);
        return [dx, dW];
      };
      return { value, gradFunc };
    },
  );
  return f(x, w) as tf.Tensor4D;
}
