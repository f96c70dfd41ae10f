// conv1d with a hand-written gradient, for backends without Conv2DBackpropFilter (wasm):
//   y[n,t,o]  = sum_{j,c} xpad[n, t*s + j*d, c] * w[j,c,o]      (stride s, dilation d)
//   dW[j,c,o] = sum_{n,t} xpad[n, t*s + j*d, c] * dy[n,t,o]   -> one im2col matMul
//   dx        = conv1d (dilation d) of dy (dilated by the stride, padded by (k-1)*d) with w flipped
//               along j and transposed to [k, Cout, Cin], then cropped to the unpadded input.
import * as tf from '@tensorflow/tfjs';
import { outLength, padLeft, windowSpan, type ConvPadding } from '../graph/types.js';

/** [N, Lout, k*Cin]: row (n,t) holds xpad[n, t*s + j*d, c] for j, c (j major). */
function im2col(xpad: tf.Tensor3D, k: number, stride: number, dilation: number, lOut: number): tf.Tensor3D {
  const [N, , C] = xpad.shape;
  const span = (lOut - 1) * stride + 1;
  const taps: tf.Tensor3D[] = [];
  for (let j = 0; j < k; j++)
    taps.push(
      tf.stridedSlice(xpad, [0, j * dilation, 0], [N, j * dilation + span, C], [1, stride, 1]) as tf.Tensor3D,
    );
  return k === 1 ? taps[0] : tf.concat(taps, 2);
}

/** Inserts stride-1 zeros between time steps: [N, L, C] -> [N, (L-1)*s + 1, C]. */
function dilate(dy: tf.Tensor3D, stride: number): tf.Tensor3D {
  if (stride === 1) return dy;
  const [N, L, C] = dy.shape;
  const withZeros = tf.concat([dy.expandDims(2), tf.zeros([N, L, stride - 1, C])], 2); // [N, L, s, C]
  return withZeros.reshape([N, L * stride, C]).slice([0, 0, 0], [N, (L - 1) * stride + 1, C]) as tf.Tensor3D;
}

/** Zero padding of a conv1d input, Keras semantics ('same': extra padding right; 'causal': all left). */
export function padInput(
  x: tf.Tensor3D,
  k: number,
  stride: number,
  padding: ConvPadding,
  dilation = 1,
): tf.Tensor3D {
  const L = x.shape[1];
  const lOut = outLength(L, k, stride, padding, dilation);
  const left = padLeft(L, k, stride, padding, dilation);
  const total = padding === 'valid' ? 0 : Math.max((lOut - 1) * stride + windowSpan(k, dilation) - L, 0);
  return left === 0 && total === 0
    ? x
    : tf.pad(x, [
        [0, 0],
        [left, Math.max(total - left, 0)],
        [0, 0],
      ]);
}

/** conv1d(x [N,L,Cin], w [k,Cin,Cout]) whose gradients use only matMul, slices and a forward conv1d. */
export function conv1dCustomGrad(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  stride: number,
  padding: ConvPadding,
  dilation = 1,
): tf.Tensor3D {
  const k = w.shape[0];
  const L = x.shape[1];
  const lOut = outLength(L, k, stride, padding, dilation);
  const left = padLeft(L, k, stride, padding, dilation);
  const f = tf.customGrad(
    (
      xIn: tf.Tensor | tf.GradSaveFunc,
      wIn: tf.Tensor | tf.GradSaveFunc,
      save: tf.Tensor | tf.GradSaveFunc,
    ) => {
      const xa = xIn as tf.Tensor3D;
      const wa = wIn as tf.Tensor3D;
      const xpad = padInput(xa, k, stride, padding, dilation);
      (save as tf.GradSaveFunc)([xpad, wa]);
      const value = tf.conv1d(xpad, wa, stride, 'valid', 'NWC', dilation);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [xp, wt] = saved as [tf.Tensor3D, tf.Tensor3D];
        const [N, lPad, cIn] = xp.shape;
        const cOut = wt.shape[2];
        const dy3 = dy as tf.Tensor3D;
        // Weight gradient: [k*Cin, N*Lout] x [N*Lout, Cout].
        const cols = im2col(xp, k, stride, dilation, lOut).reshape([N * lOut, k * cIn]);
        const dW = tf.matMul(cols, dy3.reshape([N * lOut, cOut]), true, false).reshape([k, cIn, cOut]);
        // Input gradient: full correlation of the dilated dy with the flipped, transposed kernel.
        const dyd = dilate(dy3, stride);
        const right = lPad - dyd.shape[1];
        const dyp = tf.pad(dyd, [
          [0, 0],
          [(k - 1) * dilation, right],
          [0, 0],
        ]);
        const wf = tf.reverse(wt, 0).transpose([0, 2, 1]) as tf.Tensor3D; // [k, Cout, Cin]
        const dxPad = tf.conv1d(dyp, wf, 1, 'valid', 'NWC', dilation); // [N, lPad, Cin]
        const dx = dxPad.slice([0, left, 0], [N, L, cIn]);
        return [dx, dW];
      };
      return { value, gradFunc };
    },
  );
  return f(x, w) as tf.Tensor3D;
}
