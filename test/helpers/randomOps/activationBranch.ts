// Shared by the generators of the merge and activation kinds: a table activation of a tensor in a
// new random format (a same-shaped tensor in another format, e.g. a merge's second branch).
import type { QLut } from '../../../src/ops/lut.js';
import type { ModelBuilder, TensorRef } from './builder.js';

export type TableKind = 'sigmoid' | 'tanh' | 'hardswish';

/** A table activation of `x` to a random output format; `x` stays where it was. */
export function tableOf(
  b: ModelBuilder,
  kind: TableKind,
  x: TensorRef = b.current,
  outFrac = b.int(-2, 12),
): TensorRef {
  const layer: QLut = { kind, ...b.base(kind, [...x.shape], [x]), inFrac: x.frac, outFrac };
  return b.push(layer, outFrac, x.flat);
}

/**
 * A merge's output format: at most the coarsest input's, now and then far below (shifts up to and
 * past 31), never below -40 (chained merges stay inside the .tfm's frac range).
 */
export function mergeOutFrac(b: ModelBuilder, xs: TensorRef[]): number {
  const lo = Math.min(...xs.map((x) => x.frac));
  return Math.min(lo, Math.max(lo - (b.chance(0.2) ? b.int(0, 34) : b.int(0, 2)), -40));
}
