// Raw sensor window -> int8 model input, with the model's normalization and input format.
import { TinyforgeError } from '../util/errors.js';
import { quantizeInput } from '../fixedpoint/semantics.js';
import type { CompressedModel } from '../qmodel/model.js';
import { quantizeInt8 } from '../fixedpoint/tflite.js';

/**
 * raw: T * C floats, channels last. q = quantizeInput((x - mean[c]) / std[c], inputFrac). A NaN or
 * infinite value is an 'input' error naming `where` (e.g. "window 17"), the time step and channel.
 */
export function quantizeWindow(
  model: CompressedModel,
  raw: Float32Array | ArrayLike<number>,
  where = 'input window',
): Int8Array {
  const [T, C] = model.inputShape;
  if (raw.length !== T * C) {
    throw new TinyforgeError(
      `input window has ${raw.length} values, expected ${T} x ${C} = ${T * C}`,
      'input',
    );
  }
  const { mean, std } = model.normalization;
  const affine = model.affine?.input;
  // tflite-int8: the model's own input quantization (TFLite's QUANTIZE); pow2: its input format.
  const quantize = affine
    ? (v: number) => quantizeInt8(v, affine.scale, affine.zeroPoint)
    : (v: number) => quantizeInput(v, model.inputFrac);
  const q = new Int8Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const i = t * C + c;
      // An Int8Array stores NaN as 0: a NaN sample would pass as a plausible input.
      if (!Number.isFinite(raw[i]))
        throw new TinyforgeError(
          `${where}: time step ${t}, channel ${c} is ${String(raw[i])}`,
          'input',
          'windows must hold finite numbers: drop or repair the samples that are NaN or infinite',
        );
      q[i] = quantize((raw[i] - mean[c]) / std[c]);
    }
  }
  return q;
}
