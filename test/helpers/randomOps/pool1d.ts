// MaxPooling1D and AveragePooling1D: random pool size, stride and padding; the format is kept.
import type { QMaxPool1D } from '../../../src/ops/maxpool1d.js';
import type { QAvgPool1D } from '../../../src/ops/avgpool1d.js';
import { outLength, padLeft, type Padding } from '../../../src/graph/types.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

function pool(kind: 'maxpool1d' | 'avgpool1d'): OpGenerator {
  return {
    kind,
    input: 'seq',
    add(b: ModelBuilder) {
      const [T, C] = b.current.shape;
      const poolSize = b.int(1, Math.min(3, T));
      const stride = b.int(1, 2);
      const padding: Padding = b.chance(0.5) ? 'same' : 'valid';
      const L = outLength(T, poolSize, stride, padding);
      const layer: QMaxPool1D | QAvgPool1D = {
        ...b.base(kind, [L, C]),
        kind,
        poolSize,
        stride,
        padding,
        padLeft: padLeft(T, poolSize, stride, padding),
        frac: b.current.frac,
      };
      b.push(layer, b.current.frac);
    },
  };
}

export const maxpool1d = pool('maxpool1d');
export const avgpool1d = pool('avgpool1d');
