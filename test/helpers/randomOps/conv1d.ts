// Conv1D: random kernel size, stride or dilation (Keras allows one of them above 1) and padding
// (same, valid, causal), sometimes pointwise (kernel 1, stride 1), over the current sequence.
import type { QConv1D } from '../../../src/ops/conv1d.js';
import { outLength, padLeft, type ConvPadding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

export const conv1d: OpGenerator = {
  kind: 'conv1d',
  input: 'seq',
  add(b: ModelBuilder) {
    const [T, C] = b.current.shape;
    const pointwise = b.chance(0.2);
    const dilated = !pointwise && b.chance(0.4);
    const stride = dilated || pointwise ? 1 : b.int(1, 2);
    let dilation = dilated ? b.int(2, 3) : 1;
    const padding: ConvPadding = b.pick(['same', 'valid', 'causal'] as const);
    let k = pointwise ? 1 : b.int(1, Math.min(5, T));
    if (padding === 'valid' && outLength(T, k, stride, 'valid', dilation) < 1) {
      k = 1;
      dilation = 1;
    }
    // Multiples of 4 make the next pointwise layer take the fast path (MacView.pointwise).
    const filters = b.chance(0.3) ? 4 * b.int(1, 3) : b.int(1, 7);
    const L = outLength(T, k, stride, padding, dilation);
    const w = b.weighted(filters, k * C, b.chance(0.7));
    const layer: QConv1D = {
      ...b.base('conv1d', [L, filters]),
      kind: 'conv1d',
      filters,
      kernelSize: k,
      stride,
      padding,
      ...(dilation > 1 ? { dilation } : {}),
      padLeft: padLeft(T, k, stride, padding, dilation),
      ...w,
    };
    b.push(layer, w.outFrac);
  },
};
