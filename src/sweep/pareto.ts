// The Pareto front of error against memory: the points no other point beats on both at once.

export interface Tradeoff {
  memory: number;
  error: number;
}

/** True when `a` dominates `b`: no worse on both, strictly better on one. */
export function dominates(a: Tradeoff, b: Tradeoff): boolean {
  return a.memory <= b.memory && a.error <= b.error && (a.memory < b.memory || a.error < b.error);
}

/**
 * Indices of the points on the front, in input order. Points with equal memory and error do not
 * dominate each other, so both stay. Quadratic, which is nothing for a sweep's few hundred points
 * and keeps the code the definition itself.
 */
export function paretoFront(points: readonly Tradeoff[]): number[] {
  const front: number[] = [];
  for (let i = 0; i < points.length; i++)
    if (!points.some((q, j) => j !== i && dominates(q, points[i]))) front.push(i);
  return front;
}
