// GlobalAveragePooling2D and GlobalMaxPooling2D: [H, W, C] to the feature vector [1, C], the
// format kept.
import type { QFormatKeeping } from '../../../src/ops/formatKeeping.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

function global(kind: 'gap2d' | 'gmp2d'): OpGenerator {
  return {
    kind,
    input: 'image',
    add(b: ModelBuilder) {
      const C = b.current.shape[2];
      const layer: QFormatKeeping = { ...b.base(kind, [1, C]), kind, frac: b.current.frac };
      b.push(layer, b.current.frac, true);
    },
  };
}

export const gap2d = global('gap2d');
export const gmp2d = global('gmp2d');
