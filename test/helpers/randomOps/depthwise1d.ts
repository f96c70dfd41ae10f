// DepthwiseConv1D: random kernel size, stride, dilation (both may exceed 1), padding (same, valid,
// causal) and depth multiplier 1..3 over the current sequence.
import type { QDepthwiseConv1D } from '../../../src/ops/depthwise1d.js';
import { dwGeometry } from '../../../src/ops/depthwise.js';
import type { ConvPadding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

export const depthwise1d: OpGenerator = {
  kind: 'depthwise1d',
  input: 'seq',
  add(b: ModelBuilder) {
    const [T, C] = b.current.shape;
    const padding: ConvPadding = b.pick(['same', 'valid', 'causal'] as const);
    const mult = b.int(1, 3);
    const sw = b.int(1, 3);
    let [k, dw] = [b.int(1, Math.min(7, T)), b.chance(0.4) ? b.int(2, 3) : 1];
    let g = dwGeometry({ kh: 1, kw: k, sh: 1, sw, dh: 1, dw, mult, padding }, [T, C]);
    if (g.OW < 1) {
      [k, dw] = [1, 1];
      g = dwGeometry({ kh: 1, kw: k, sh: 1, sw, dh: 1, dw, mult, padding }, [T, C]);
    }
    const w = b.weighted(g.OC, k, b.chance(0.6));
    const layer: QDepthwiseConv1D = {
      ...b.base('depthwise1d', [g.OW, g.OC]),
      kind: 'depthwise1d',
      kernel: [1, k],
      strides: [1, sw],
      dilation: [1, dw],
      padding,
      pad: [g.padTop, g.padLeft],
      depthMultiplier: mult,
      ...w,
    };
    b.push(layer, w.outFrac);
  },
};
