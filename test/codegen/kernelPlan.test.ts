// The compile-time kernel decisions (src/codegen/kernelPlan.ts): the int16 input copy holds every
// window with its padding, sparse passes cover every time step within the LDRSH offset range, the
// RAM decode table skips the per-token test only when no prefix can be slow, and the dense/sparse
// choice follows the density.
import { describe, expect, it } from 'vitest';
import { encodeWeights } from '../../src/qmodel/coding/weights.js';
import {
  chooseLut,
  chooseSparse,
  gridCopy,
  gridIndex,
  inputCopy,
  MAX_LUT_BITS,
  SPARSE_MAX_ROW,
  SPARSE_MAX_TB,
  sparseBlocking,
  type Geometry,
  type Grid,
} from '../../src/codegen/kernelPlan.js';
import { outLength, padLeft, type Padding } from '../../src/graph/ir.js';
import { laplacianWeights, makeRng, pick, randInt } from '../helpers/randomModel.js';

function randomGeometry(seed: number): Geometry {
  const rng = makeRng(seed);
  const T = randInt(rng, 1, 40);
  const C = randInt(rng, 1, 9);
  const k = randInt(rng, 1, Math.min(T, 9));
  const stride = randInt(rng, 1, 3);
  const padding: Padding = pick(rng, ['same', 'valid'] as const);
  const L = outLength(T, k, stride, padding);
  return { T, C, k, stride, padLeft: padLeft(T, k, stride, padding), L, cout: randInt(rng, 1, 9) };
}

describe('inputCopy', () => {
  it('holds every window, with zeros where the padding is, on 3000 random geometries', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const g = randomGeometry(seed);
      const c = inputCopy(g);
      const rng = makeRng(seed + 1);
      const x = Array.from({ length: g.T * g.C }, () => randInt(rng, -128, 127));
      // The copy as tf_expand16 writes it.
      const copy = [...new Array<number>(c.zl).fill(0), ...x, ...new Array<number>(c.zr).fill(0)];
      expect(copy.length).toBe(c.count);
      const n = g.k * g.C;
      for (let t = 0; t < g.L; t++) {
        const at = t * c.step;
        // The kernels read whole pairs: n values, one more when n is odd.
        expect(at + n + (n % 2)).toBeLessThanOrEqual(c.count);
        for (let j = 0; j < g.k; j++) {
          const row = t * g.stride - g.padLeft + j;
          for (let ch = 0; ch < g.C; ch++) {
            const want = row >= 0 && row < g.T ? x[row * g.C + ch] : 0;
            expect(copy[at + j * g.C + ch]).toBe(want);
          }
        }
      }
    }
  });
});

describe('sparseBlocking', () => {
  it('covers every time step, at most 6 at a time, within the LDRSH offset range', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const g = randomGeometry(seed);
      const b = sparseBlocking(g);
      expect(b.tb).toBeGreaterThanOrEqual(1);
      expect(b.tb).toBeLessThanOrEqual(Math.min(SPARSE_MAX_TB, g.L));
      expect((b.tb - 1) * b.stepBytes).toBeLessThanOrEqual(4095);
      const covered = new Set<number>();
      for (let blk = 0; blk < b.blocks; blk++) {
        const t0 = Math.min(blk * b.tb, b.lastStart);
        expect(t0).toBeGreaterThanOrEqual(0);
        for (let j = 0; j < b.tb; j++) covered.add(t0 + j);
      }
      expect([...covered].sort((p, q) => p - q)).toEqual(Array.from({ length: g.L }, (_, t) => t));
    }
  });

  it('fits wide inputs: one window per pass when a step exceeds the offset range', () => {
    const b = sparseBlocking({ T: 20, C: 3000, k: 1, stride: 1, padLeft: 0, L: 20, cout: 2 });
    expect(b.tb).toBe(1);
  });
});

describe('chooseLut', () => {
  it('skips the per-token test only for a complete code that fits the table', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rng = makeRng(seed);
      const bits = randInt(rng, 2, 8);
      const rows = randInt(rng, 1, 8);
      const n = randInt(rng, 1, 200);
      const coding = pick(rng, ['huffman', 'rle-huffman'] as const);
      const values = laplacianWeights(rng, rows * n, bits, 2 ** (bits - 2) * rng() + 0.5, rng() * 0.9);
      const cw = encodeWeights(values, rows, n, bits, coding);
      const t = cw.table!;
      const { kb, checked } = chooseLut(cw, values);
      expect(kb).toBeGreaterThanOrEqual(1);
      expect(kb).toBeLessThanOrEqual(Math.min(MAX_LUT_BITS, t.maxLength));
      let kraft = 0;
      for (let l = 1; l <= t.maxLength; l++) kraft += t.counts[l] * 2 ** (t.maxLength - l);
      const complete = kraft === 2 ** t.maxLength;
      if (!checked) {
        expect(complete).toBe(true);
        expect(kb).toBe(t.maxLength);
      }
    }
  });

  it('tests every token of a one-symbol code (its other prefix matches nothing)', () => {
    const cw = encodeWeights(new Int8Array(64), 4, 16, 4, 'huffman');
    expect(cw.table!.symbols).toHaveLength(1);
    expect(chooseLut(cw, new Int8Array(64)).checked).toBe(true);
  });
});

describe('chooseSparse', () => {
  const g: Geometry = { T: 64, C: 16, k: 5, stride: 1, padLeft: 0, L: 60, cout: 16 };
  const n = g.k * g.C;
  const rows = g.cout;
  const withDensity = (density: number): Int8Array => {
    const rng = makeRng(9);
    return Int8Array.from({ length: rows * n }, () => (rng() < density ? randInt(rng, 1, 7) : 0));
  };

  it('keeps dense SMLAD for dense filters and takes the list for very sparse ones', () => {
    expect(chooseSparse(g, withDensity(1), rows, n)).toBe(false);
    expect(chooseSparse(g, withDensity(0.6), rows, n)).toBe(false);
    expect(chooseSparse(g, withDensity(0.1), rows, n)).toBe(true);
  });

  it('never lists a row longer than a list word can address', () => {
    const long = SPARSE_MAX_ROW + 1;
    const big: Geometry = { T: 1, C: long, k: 1, stride: 1, padLeft: 0, L: 1, cout: 1 };
    expect(chooseSparse(big, new Int8Array(long), 1, long)).toBe(false);
  });
});

function randomGrid(seed: number): { g: Grid; C: number } {
  const rng = makeRng(seed);
  const H = randInt(rng, 1, 9);
  const W = randInt(rng, 1, 11);
  const C = randInt(rng, 1, 5);
  const dilated = rng() < 0.5;
  const kh = randInt(rng, 1, Math.min(H, 3));
  const kw = randInt(rng, 1, Math.min(W, 4));
  const sh = dilated ? 1 : randInt(rng, 1, 2);
  const sw = dilated ? 1 : randInt(rng, 1, 3);
  let dh = dilated ? randInt(rng, 1, 3) : 1;
  let dw = dilated ? randInt(rng, 1, 3) : 1;
  if ((kh - 1) * dh + 1 > H) dh = 1;
  if ((kw - 1) * dw + 1 > W) dw = 1;
  const padding: Padding = pick(rng, ['same', 'valid'] as const);
  return {
    C,
    g: {
      H,
      W,
      kh,
      kw,
      sh,
      sw,
      dh,
      dw,
      padTop: padLeft(H, kh, sh, padding, dh),
      padLeft: padLeft(W, kw, sw, padding, dw),
      OH: outLength(H, kh, sh, padding, dh),
      OW: outLength(W, kw, sw, padding, dw),
    },
  };
}

describe('gridCopy', () => {
  it('makes every kernel row of every window one contiguous segment of its taps, on 2000 random grids', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const { g, C } = randomGrid(seed);
      const c = gridCopy(g, C);
      const rng = makeRng(seed + 7);
      const x = Array.from({ length: g.H * g.W * C }, () => randInt(rng, -128, 127));
      // The copy as the kernel writes it: zeros, then input (h, w) at its padded place's index.
      const copy = new Array<number>(c.count).fill(0);
      for (let h = 0; h < g.H; h++)
        for (let w = 0; w < g.W; w++)
          for (let ch = 0; ch < C; ch++)
            copy[gridIndex(c, g, C, h + g.padTop, w + g.padLeft) + ch] = x[(h * g.W + w) * C + ch];
      expect(c.count % 2).toBe(0);
      expect(c.S).toBe(g.kw * C);
      for (let oy = 0; oy < g.OH; oy++)
        for (let ox = 0; ox < g.OW; ox++) {
          const base = gridIndex(c, g, C, oy * g.sh, ox * g.sw);
          for (let r = 0; r < g.kh; r++) {
            const at = base + r * c.segStep;
            // Whole pairs: one value past an odd segment is read too.
            expect(at + 2 * c.P).toBeLessThanOrEqual(c.count);
            for (let s = 0; s < g.kw; s++) {
              const h = oy * g.sh + r * g.dh - g.padTop;
              const w = ox * g.sw + s * g.dw - g.padLeft;
              for (let ch = 0; ch < C; ch++) {
                const inside = h >= 0 && h < g.H && w >= 0 && w < g.W;
                expect(copy[at + s * C + ch]).toBe(inside ? x[(h * g.W + w) * C + ch] : 0);
              }
            }
          }
        }
    }
  });
});
