// DepthwiseConv2D: random (kh, kw), strides, dilation, same/valid padding and depth multiplier 1..3
// over the current image.
import type { QDepthwiseConv2D } from '../../../src/ops/depthwise2d.js';
import { dwGeometry, type DwSpec } from '../../../src/ops/depthwise.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

export const depthwise2d: OpGenerator = {
  kind: 'depthwise2d',
  input: 'image',
  add(b: ModelBuilder) {
    const [H, W, C] = b.current.shape;
    const draw = (): DwSpec => ({
      kh: b.int(1, Math.min(4, H)),
      kw: b.int(1, Math.min(4, W)),
      sh: b.int(1, 2),
      sw: b.int(1, 2),
      dh: b.chance(0.3) ? 2 : 1,
      dw: b.chance(0.3) ? 2 : 1,
      mult: b.int(1, 3),
      padding: b.pick(['same', 'valid'] as const),
    });
    let s = draw();
    let g = dwGeometry(s, [H, W, C]);
    if (g.OH < 1 || g.OW < 1) {
      s = { ...s, kh: 1, kw: 1, dh: 1, dw: 1 };
      g = dwGeometry(s, [H, W, C]);
    }
    const w = b.weighted(g.OC, s.kh * s.kw, b.chance(0.6));
    const layer: QDepthwiseConv2D = {
      ...b.base('depthwise2d', [g.OH, g.OW, g.OC]),
      kind: 'depthwise2d',
      kernel: [s.kh, s.kw],
      strides: [s.sh, s.sw],
      dilation: [s.dh, s.dw],
      padding: s.padding,
      pad: [g.padTop, g.padLeft],
      depthMultiplier: s.mult,
      ...w,
    };
    b.push(layer, w.outFrac);
  },
};
