// Conv1D: random kernel size, stride and padding over the current sequence.
import type { QConv1D } from '../../../src/ops/conv1d.js';
import { outLength, padLeft, type Padding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

export const conv1d: OpGenerator = {
  kind: 'conv1d',
  input: 'seq',
  add(b: ModelBuilder) {
    const [T, C] = b.current.shape;
    const stride = b.int(1, 2);
    const padding: Padding = b.chance(0.5) ? 'same' : 'valid';
    let k = b.int(1, Math.min(5, T));
    if (padding === 'valid' && outLength(T, k, stride, 'valid') < 1) k = 1;
    const filters = b.int(1, 7);
    const L = outLength(T, k, stride, padding);
    const w = b.weighted(filters, k * C, b.chance(0.7));
    const layer: QConv1D = {
      ...b.base('conv1d', [L, filters]),
      kind: 'conv1d',
      filters,
      kernelSize: k,
      stride,
      padding,
      padLeft: padLeft(T, k, stride, padding),
      ...w,
    };
    b.push(layer, w.outFrac);
  },
};
