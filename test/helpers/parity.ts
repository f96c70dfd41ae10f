// Float parity of an imported model with its framework: floatForward on the framework's inputs
// against its outputs, every value, relative to the largest magnitude of each expected output
// (the acceptance criterion's "1e-5 of the output range").
import { expect } from 'vitest';
import { floatForward } from '../../src/compress/floatForward.js';
import type { FloatModel } from '../../src/graph/types.js';

/** Largest |ours - expected| over every output value of every input, relative to that output's range. */
export function worstRelativeError(
  model: FloatModel,
  inputs: readonly ArrayLike<number>[],
  outputs: readonly (readonly number[])[],
): number {
  let worst = 0;
  inputs.forEach((x, k) => {
    const got = floatForward(model, Float32Array.from(x)).outputs.at(-1)!;
    const want = outputs[k];
    expect(got.length).toBe(want.length);
    const range = Math.max(...want.map(Math.abs));
    want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v) / range)));
  });
  return worst;
}
