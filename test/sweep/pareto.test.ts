// The Pareto front of error against memory: hand-made sets whose front is worked out here, and
// random sets checked against the definition written out independently (sorting by memory).
import { describe, expect, it } from 'vitest';
import { dominates, paretoFront, type Tradeoff } from '../../src/sweep/pareto.js';

const pts = (...xs: [number, number][]): Tradeoff[] => xs.map(([memory, error]) => ({ memory, error }));

describe('paretoFront', () => {
  it('keeps the staircase and drops what is beaten on both axes', () => {
    // 0 (1 kB, 30%) smallest -> front. 1 (2 kB, 20%) better error -> front. 2 (3 kB, 25%) beaten by 1.
    // 3 (4 kB, 10%) best error -> front. 4 (5 kB, 10%) same error as 3 with more memory -> beaten.
    const p = pts([1000, 0.3], [2000, 0.2], [3000, 0.25], [4000, 0.1], [5000, 0.1]);
    expect(paretoFront(p)).toEqual([0, 1, 3]);
  });

  it('equal memory: only the lower error stays; identical points both stay', () => {
    // 0 and 1 share memory, 1 has less error: 0 is dominated. 2 and 3 are the same trade-off: neither
    // is strictly better, so both stay (as the definition says).
    const p = pts([1000, 0.3], [1000, 0.2], [2000, 0.1], [2000, 0.1]);
    expect(paretoFront(p)).toEqual([1, 2, 3]);
  });

  it('input order does not matter', () => {
    const p = pts([4000, 0.1], [3000, 0.25], [1000, 0.3], [5000, 0.1], [2000, 0.2]);
    expect(paretoFront(p)).toEqual([0, 2, 4]);
  });

  it('a single point and an empty set', () => {
    expect(paretoFront(pts([10, 0.5]))).toEqual([0]);
    expect(paretoFront([])).toEqual([]);
  });

  it('dominates needs one strict improvement', () => {
    expect(dominates({ memory: 1, error: 0.1 }, { memory: 1, error: 0.1 })).toBe(false);
    expect(dominates({ memory: 1, error: 0.1 }, { memory: 2, error: 0.1 })).toBe(true);
    expect(dominates({ memory: 1, error: 0.2 }, { memory: 2, error: 0.1 })).toBe(false);
  });

  it('matches a sort-and-sweep construction on random sets', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 50; trial++) {
      // Coarse values so ties on either axis are common.
      const p = Array.from({ length: 40 }, () => ({
        memory: 1 + Math.floor(rnd() * 12),
        error: Math.floor(rnd() * 12) / 20,
      }));
      // Sweep by memory; a group of equal memory keeps its minimal error only if it beats every
      // smaller memory's best error; all copies of that (memory, error) stay.
      const expected: number[] = [];
      let best = Infinity;
      for (const m of [...new Set(p.map((q) => q.memory))].sort((a, b) => a - b)) {
        const group = p.map((q, i) => ({ q, i })).filter((e) => e.q.memory === m);
        const low = Math.min(...group.map((e) => e.q.error));
        if (low < best) expected.push(...group.filter((e) => e.q.error === low).map((e) => e.i));
        best = Math.min(best, low);
      }
      expect(paretoFront(p)).toEqual(expected.sort((a, b) => a - b));
    }
  });
});
