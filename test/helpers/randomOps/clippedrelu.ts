// Random clipped ReLU layers (src/ops/clippedrelu.ts): tops below, near and above the int8 range of
// the current tensor's format.
import type { QClippedReLU } from '../../../src/ops/clippedrelu.js';
import type { OpGenerator } from './builder.js';

export const clippedrelu: OpGenerator = {
  kind: 'clippedrelu',
  input: 'any',
  add(b) {
    const x = b.current;
    const maxValue = b.pick([6, 1, 0.4, 3.3, 40]);
    const layer: QClippedReLU = {
      kind: 'clippedrelu',
      ...b.base('clippedrelu', [...x.shape]),
      maxValue,
      frac: x.frac,
    };
    b.push(layer, x.frac, x.flat);
  },
};
