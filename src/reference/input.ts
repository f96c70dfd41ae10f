// Raw sensor window -> int8 model input, with the model's normalization and input format.
import { TinyforgeError } from '../util/errors.js';
import { quantizeInput } from '../fixedpoint/semantics.js';
import type { CompressedModel } from '../qmodel/model.js';

/** raw: T * C floats, channels last. q = quantizeInput((x - mean[c]) / std[c], inputFrac). */
export function quantizeWindow(model: CompressedModel, raw: Float32Array | ArrayLike<number>): Int8Array {
  const [T, C] = model.inputShape;
  if (raw.length !== T * C) {
    throw new TinyforgeError(
      `input window has ${raw.length} values, expected ${T} x ${C} = ${T * C}`,
      'input',
    );
  }
  const { mean, std } = model.normalization;
  const q = new Int8Array(T * C);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const i = t * C + c;
      q[i] = quantizeInput((raw[i] - mean[c]) / std[c], model.inputFrac);
    }
  }
  return q;
}
