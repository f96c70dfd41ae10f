// Reshape: the current tensor under another shape of the same size (a view, the format kept):
// [T, C] as [T, C, 1] or [1, T, C], [H, W, C] as [H*W, C] or [H, W*C], a flat [1, F] as [F, 1].
import type { ModelBuilder, OpGenerator } from './builder.js';

/** Shapes of the same size and rank 2 or 3 that a Reshape of `shape` may give. */
export function reshapeTargets(shape: number[], flat: boolean): number[][] {
  if (flat)
    return [
      [shape[1], 1],
      [1, shape[1], 1],
    ];
  if (shape.length === 2)
    return [
      [shape[0], shape[1], 1],
      [1, shape[0], shape[1]],
      [shape[0] * shape[1], 1],
    ];
  const [H, W, C] = shape;
  return [
    [H * W, C],
    [H, W * C],
    [W, H, C],
  ];
}

export const reshape: OpGenerator = {
  kind: 'reshape',
  input: 'any',
  add(b: ModelBuilder) {
    b.reshape(b.pick(reshapeTargets(b.current.shape, b.current.flat)));
  },
};
