// The window store: windows beyond one chunk go to a temporary file and come back in order, once,
// and the file is removed (also when loading fails).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WindowStore } from '../../src/data/recordings/store.js';

function filled(n: number, chunkFloats: number): WindowStore {
  const store = new WindowStore(4, 2, chunkFloats);
  const x = new Float32Array(8);
  for (let i = 0; i < n; i++) {
    x.fill(i);
    x[7] = -i;
    store.add(x, i % 3, i % 5, i % 7);
  }
  return store;
}

describe('WindowStore', () => {
  for (const [n, chunkFloats] of [
    [10, 1 << 20],
    [24, 24],
    [25, 24],
    [3, 8],
  ])
    it(`gives back ${n} windows in order (chunks of ${chunkFloats / 8} windows)`, () => {
      const store = filled(n, chunkFloats);
      const spill = store.spillDir;
      expect(spill === undefined).toBe(n * 8 < chunkFloats);
      const seen: number[] = [];
      store.drain((x, i) => {
        expect(Array.from(x)).toEqual([i, i, i, i, i, i, i, -i]);
        expect([store.labels.get(i), store.units.get(i), store.subjects.get(i)]).toEqual([
          i % 3,
          i % 5,
          i % 7,
        ]);
        seen.push(i);
      });
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
      if (spill) expect(existsSync(spill)).toBe(false);
    });

  it('removes its file when the visit fails', () => {
    const store = filled(9, 16);
    const spill = store.spillDir!;
    expect(existsSync(spill)).toBe(true);
    expect(() =>
      store.drain(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(spill)).toBe(false);
  });
});
