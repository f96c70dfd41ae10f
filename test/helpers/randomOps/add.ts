// Random Add layers (src/ops/add.ts): the current tensor plus a same-shaped branch made from it in
// another format (a table activation), sometimes three inputs; output formats that give large
// shifts now and then and saturating sums. The Add often runs in place over the current tensor.
import type { QMerge } from '../../../src/ops/merge.js';
import type { OpGenerator } from './builder.js';
import { mergeOutFrac, tableOf } from './activationBranch.js';

export const add: OpGenerator = {
  kind: 'add',
  input: 'any',
  add(b) {
    const x = b.current;
    const branch = tableOf(b, b.pick(['tanh', 'sigmoid', 'hardswish'] as const), x);
    const xs = b.chance(0.3) ? [x, branch, x] : b.chance(0.5) ? [x, branch] : [branch, x];
    const outFrac = mergeOutFrac(b, xs);
    const layer: QMerge = {
      kind: 'add',
      ...b.base('add', [...x.shape], xs),
      inFracs: xs.map((t) => t.frac),
      outFrac,
    };
    b.push(layer, outFrac, x.flat);
  },
};
