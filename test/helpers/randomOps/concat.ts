// Random Concatenate layers (src/ops/concat.ts): the current tensor and a branch made from it in
// another format (a table activation), in either order, sometimes the current tensor twice.
import type { QConcat } from '../../../src/ops/concat.js';
import type { OpGenerator } from './builder.js';
import { mergeOutFrac, tableOf } from './activationBranch.js';

export const concat: OpGenerator = {
  kind: 'concat',
  input: 'any',
  add(b) {
    const x = b.current;
    const branch = tableOf(b, b.pick(['tanh', 'sigmoid', 'hardswish'] as const), x);
    const xs = b.chance(0.3) ? [branch, x, x] : b.chance(0.5) ? [x, branch] : [branch, x];
    const channels = xs.map((t) => t.shape[t.shape.length - 1]);
    const outShape = [...x.shape.slice(0, -1), channels.reduce((a, c) => a + c, 0)];
    const outFrac = mergeOutFrac(b, xs);
    const layer: QConcat = {
      kind: 'concat',
      ...b.base('concat', outShape, xs),
      inFracs: xs.map((t) => t.frac),
      outFrac,
      channels,
    };
    b.push(layer, outFrac, x.flat);
  },
};
