// Fine-tuning under compression: pruning masks keep pruned weights at zero, and fake quantization
// with a straight-through estimator lets the float weights learn to sit well on the b-bit grid.
import * as tf from '@tensorflow/tfjs';
import type { Layer } from '../graph/ir.js';
import type { ForwardHooks } from '../train/forward.js';
import type { Masks } from './prune.js';

export interface FakeQuantSettings {
  /** Weight bits (2..8); undefined = no weight fake quantization. */
  bits?: number;
  perChannel: boolean;
  /** Int8 fractional bits per layer output (fake-quantizes activations when given). */
  activationFrac?: Record<string, number>;
}

/** round-half-up onto the grid with `frac` fractional bits, saturated to [lo, hi], back to float. */
function gridRound(w: tf.Tensor, scale: tf.Tensor, lo: number, hi: number): tf.Tensor {
  return tf.div(tf.clipByValue(tf.floor(tf.add(tf.mul(w, scale), 0.5)), lo, hi), scale);
}

/**
 * Straight-through estimator: the forward value is the rounded one, the gradient passes to `w` as
 * if rounding were the identity (tfjs has no stopGradient, so it is a custom gradient).
 */
function straightThrough(w: tf.Tensor, scale: tf.Tensor, lo: number, hi: number): tf.Tensor {
  const f = tf.customGrad((x, s) => ({
    value: gridRound(x as tf.Tensor, s as tf.Tensor, lo, hi),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [dy as tf.Tensor, tf.zerosLike(s as tf.Tensor)],
  }));
  return f(w, scale);
}

/**
 * Fake-quantizes a kernel as src/compress/quantize.ts will: the output channel is the last axis in
 * both Conv1D [k, Cin, Co] and Dense [F, Co] layouts; fractional bits floor(log2(hi / max|w|)).
 */
export function fakeQuantKernel(w: tf.Tensor, bits: number, perChannel: boolean): tf.Tensor {
  const hi = 2 ** (bits - 1) - 1;
  const lo = -(2 ** (bits - 1));
  const axes = perChannel ? w.shape.map((_, i) => i).slice(0, -1) : undefined;
  const maxAbs = tf.maximum(tf.max(tf.abs(w), axes, true), 1e-12);
  const scale = tf.pow(2, tf.floor(tf.log(tf.div(hi, maxAbs)).div(Math.LN2)));
  return straightThrough(w, scale, lo, hi);
}

/** Forward hooks that apply masks, then weight and activation fake quantization. */
export function compressionHooks(masks: () => Masks, fq: FakeQuantSettings): ForwardHooks {
  return {
    weight: (layer: Layer, name, w) => {
      if (name !== 'kernel') return w;
      const m = masks()[layer.name];
      let out = m ? tf.mul(w, tf.tensor(m, w.shape, 'float32')) : w;
      if (fq.bits !== undefined) out = fakeQuantKernel(out, fq.bits, fq.perChannel);
      return out;
    },
    activation: fq.activationFrac
      ? (layer: Layer, y: tf.Tensor) => {
          const f = fq.activationFrac![layer.name];
          if (f === undefined) return y;
          return straightThrough(y, tf.scalar(2 ** f), -128, 127);
        }
      : undefined,
  };
}
