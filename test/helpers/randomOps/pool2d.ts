// MaxPooling2D and AveragePooling2D on [H, W, C]: random pool sizes 1..3, strides 1..3 and padding
// per axis; the format is kept.
import type { QMaxPool2D } from '../../../src/ops/maxpool2d.js';
import type { QAvgPool2D } from '../../../src/ops/avgpool2d.js';
import { outLength, padLeft, type Padding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

function pool(kind: 'maxpool2d' | 'avgpool2d'): OpGenerator {
  return {
    kind,
    input: 'image',
    add(b: ModelBuilder) {
      const [H, W, C] = b.current.shape;
      const padding: Padding = b.chance(0.5) ? 'same' : 'valid';
      const k = [H, W].map((n) => b.int(1, Math.min(3, n))) as [number, number];
      const s = [b.int(1, 3), b.int(1, 3)] as [number, number];
      const out = [H, W].map((n, a) => outLength(n, k[a], s[a], padding));
      const pad = [H, W].map((n, a) => padLeft(n, k[a], s[a], padding)) as [number, number];
      const layer: QMaxPool2D | QAvgPool2D = {
        ...b.base(kind, [out[0], out[1], C]),
        kind,
        poolSize: k,
        strides: s,
        padding,
        pad,
        frac: b.current.frac,
      };
      b.push(layer, b.current.frac);
    },
  };
}

export const maxpool2d = pool('maxpool2d');
export const avgpool2d = pool('avgpool2d');
