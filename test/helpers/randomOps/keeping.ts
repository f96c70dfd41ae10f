// Layers without attributes that keep their input's format: global pooling, Flatten, ReLU.
import type { QKeeping } from '../layers.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

function keeping(
  kind: QKeeping['kind'],
  input: OpGenerator['input'],
  out: (s: number[]) => number[],
): OpGenerator {
  return {
    kind,
    input,
    add(b: ModelBuilder) {
      const flat = kind !== 'relu' || b.current.flat;
      const layer: QKeeping = { ...b.base(kind, out(b.current.shape)), kind, frac: b.current.frac };
      b.push(layer, b.current.frac, flat);
    },
  };
}

const channels = (s: number[]) => [1, s[s.length - 1]];

export const gap1d = keeping('gap1d', 'seq', channels);
export const gmp1d = keeping('gmp1d', 'seq', channels);
export const flatten = keeping('flatten', 'any', (s) => [1, s.reduce((a, c) => a * c, 1)]);
export const relu = keeping('relu', 'any', (s) => [...s]);
