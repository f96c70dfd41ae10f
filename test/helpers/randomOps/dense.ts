// Dense: reads a flat vector (the builder flattens first), any width and coding.
import type { QDense } from '../../../src/ops/dense.js';
import type { ModelBuilder, OpGenerator } from './builder.js';

/** Appends a Dense layer of `units` outputs reading the current (flat) tensor. */
export function denseLayer(b: ModelBuilder, units: number, relu: boolean): void {
  const F = b.current.shape.reduce((a, c) => a * c, 1);
  const w = b.weighted(units, F, relu);
  const layer: QDense = { ...b.base('dense', [1, units]), kind: 'dense', units, ...w };
  b.push(layer, w.outFrac, true);
}

export const dense: OpGenerator = {
  kind: 'dense',
  input: 'flat',
  add: (b) => denseLayer(b, b.int(3, 12), b.chance(0.7)),
};
