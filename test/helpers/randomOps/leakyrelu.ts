// Random LeakyReLU layers (src/ops/leakyrelu.ts): the current tensor's format, alphas small, one,
// above one (saturating) and negative.
import type { QLeakyReLU } from '../../../src/ops/leakyrelu.js';
import type { OpGenerator } from './builder.js';

export const leakyrelu: OpGenerator = {
  kind: 'leakyrelu',
  input: 'any',
  add(b) {
    const x = b.current;
    const alpha = b.pick([0.01, 0.1, 0.2, 0.3, 1, 1.5, -0.5]);
    const layer: QLeakyReLU = {
      kind: 'leakyrelu',
      ...b.base('leakyrelu', [...x.shape]),
      alpha,
      inFrac: x.frac,
      outFrac: x.frac,
    };
    b.push(layer, x.frac, x.flat);
  },
};
