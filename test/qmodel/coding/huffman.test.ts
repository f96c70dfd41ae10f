import { describe, expect, it } from 'vitest';
import {
  buildHuffmanTable,
  canonicalCodes,
  huffmanTableProblem,
  kraftSum,
  limitedCodeLengths,
} from '../../../src/qmodel/coding/huffman.js';
import { MAX_CODE_LENGTH, type HuffmanTable } from '../../../src/qmodel/model.js';
import { makeRng, randInt } from '../../helpers/randomModel.js';

/** Cost of an unlimited Huffman code, by repeated merging of the two lightest weights. */
function huffmanCost(weights: number[]): number {
  if (weights.length === 1) return weights[0];
  const w = [...weights];
  let cost = 0;
  while (w.length > 1) {
    w.sort((a, b) => a - b);
    const s = w.shift()! + w.shift()!;
    cost += s;
    w.push(s);
  }
  return cost;
}

/** Minimum cost over all length assignments <= limit with Kraft sum <= 1 (brute force). */
function bruteForceCost(weights: number[], limit: number): number {
  let best = Infinity;
  const lengths = new Array<number>(weights.length).fill(1);
  const rec = (i: number, kraft: number): void => {
    if (kraft > 1) return;
    if (i === weights.length) {
      best = Math.min(
        best,
        weights.reduce((s, w, j) => s + w * lengths[j], 0),
      );
      return;
    }
    for (let l = 1; l <= limit; l++) {
      lengths[i] = l;
      rec(i + 1, kraft + 2 ** -l);
    }
  };
  rec(0, 0);
  return best;
}

function checkPrefixFree(table: HuffmanTable): void {
  const codes = [...canonicalCodes(table).values()].map((c) => c.code.toString(2).padStart(c.length, '0'));
  const clashes: string[] = [];
  for (let i = 0; i < codes.length; i++)
    for (let j = 0; j < codes.length; j++)
      if (i !== j && codes[j].startsWith(codes[i])) clashes.push(codes[j]);
  expect(clashes).toEqual([]);
}

function freqMap(weights: number[]): Map<number, number> {
  return new Map(weights.map((w, i) => [i, w]));
}

describe('length-limited Huffman (package-merge)', () => {
  it('matches unlimited Huffman when the limit does not bind', () => {
    const rng = makeRng(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = randInt(rng, 2, 40);
      const w = Array.from({ length: n }, () => randInt(rng, 1, 1000));
      const lengths = limitedCodeLengths(w, 15);
      const cost = w.reduce((s, x, i) => s + x * lengths[i], 0);
      expect(cost).toBe(huffmanCost(w));
    }
  });

  it('is optimal under a binding limit (brute force on small alphabets)', () => {
    const rng = makeRng(8);
    for (let trial = 0; trial < 40; trial++) {
      const n = randInt(rng, 2, 6);
      const limit = randInt(rng, Math.ceil(Math.log2(n)), 4);
      const w = Array.from({ length: n }, () => 2 ** randInt(rng, 0, 10));
      const lengths = limitedCodeLengths(w, limit);
      expect(Math.max(...lengths)).toBeLessThanOrEqual(limit);
      expect(lengths.reduce((s, l) => s + 2 ** -l, 0)).toBeLessThanOrEqual(1);
      expect(w.reduce((s, x, i) => s + x * lengths[i], 0)).toBe(bruteForceCost(w, limit));
    }
  });

  it('gives a single symbol a 1-bit code', () => {
    const t = buildHuffmanTable(new Map([[5, 100]]));
    expect(t).toEqual({ counts: [0, 1], symbols: [5], maxLength: 1 });
    expect(canonicalCodes(t).get(5)).toEqual({ code: 0, length: 1 });
  });

  it('gives 256 equally frequent symbols 8-bit codes', () => {
    const t = buildHuffmanTable(new Map(Array.from({ length: 256 }, (_, i) => [i, 3])));
    expect(t.maxLength).toBe(8);
    expect(t.counts[8]).toBe(256);
    expect(kraftSum(t)).toBe(1);
  });

  const skewed: [string, number[]][] = [
    ['geometric 2^-i (40 symbols)', Array.from({ length: 40 }, (_, i) => 2 ** (40 - i))],
    ['fibonacci (30 symbols)', Array.from({ length: 30 }, (_, i) => Math.round(1.618 ** i))],
    ['one huge, many rare', [1e9, ...new Array<number>(300).fill(1)]],
  ];
  for (const [name, w] of skewed) {
    for (const limit of [9, 12, MAX_CODE_LENGTH]) {
      it(`respects limit ${limit} on ${name}`, () => {
        const t = buildHuffmanTable(freqMap(w), limit);
        expect(t.maxLength).toBeLessThanOrEqual(limit);
        expect(t.symbols.length).toBe(w.length);
        expect(kraftSum(t)).toBeLessThanOrEqual(1);
        expect(huffmanTableProblem(t)).toBeNull();
        checkPrefixFree(t);
      });
    }
  }

  it('reaches the limit exactly when the unlimited code would be deeper', () => {
    const w = Array.from({ length: 40 }, (_, i) => 2 ** (40 - i));
    expect(Math.max(...limitedCodeLengths(w, 40))).toBe(39); // unlimited: depth n-1
    expect(buildHuffmanTable(freqMap(w), 12).maxLength).toBe(12);
  });

  it('assigns canonical codes in (length, position) order', () => {
    // Frequencies chosen so the lengths are 1, 2, 3, 3.
    const t = buildHuffmanTable(
      new Map([
        [10, 8],
        [20, 4],
        [30, 2],
        [40, 2],
      ]),
    );
    expect(t).toEqual({ counts: [0, 1, 1, 2], symbols: [10, 20, 30, 40], maxLength: 3 });
    const codes = canonicalCodes(t);
    expect(codes.get(10)).toEqual({ code: 0b0, length: 1 });
    expect(codes.get(20)).toEqual({ code: 0b10, length: 2 });
    expect(codes.get(30)).toEqual({ code: 0b110, length: 3 });
    expect(codes.get(40)).toEqual({ code: 0b111, length: 3 });
  });

  it('rejects a limit too small for the alphabet and limits beyond MAX_CODE_LENGTH', () => {
    expect(() => buildHuffmanTable(freqMap(new Array<number>(20).fill(1)), 4)).toThrow(/at most 4 bits/);
    expect(() => buildHuffmanTable(freqMap([1, 2]), 16)).toThrow(/out of range/);
  });

  it('names the problem of invalid tables', () => {
    expect(huffmanTableProblem({ counts: [0, 2, 1], symbols: [1, 2, 3], maxLength: 2 })).toMatch(
      /over-subscribed/,
    );
    expect(huffmanTableProblem({ counts: [0, 1, 1], symbols: [1], maxLength: 2 })).toMatch(
      /add up to 2 codes/,
    );
    expect(huffmanTableProblem({ counts: [0, 1, 1], symbols: [1, 1], maxLength: 2 })).toMatch(/twice/);
    expect(huffmanTableProblem({ counts: [0, 1], symbols: [600], maxLength: 1 })).toMatch(/invalid token/);
    expect(huffmanTableProblem({ counts: [0, 1, 0], symbols: [1], maxLength: 2 })).toMatch(
      /no code has that length/,
    );
    expect(huffmanTableProblem({ counts: [1, 1], symbols: [1, 2], maxLength: 1 })).toMatch(/length 0/);
    expect(huffmanTableProblem(undefined)).toMatch(/missing/);
  });
});
