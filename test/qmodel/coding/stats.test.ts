import { describe, expect, it } from 'vitest';
import { codingStats, entropyBoundReport, shannonEntropy } from '../../../src/qmodel/coding/stats.js';
import { tableBytes } from '../../../src/qmodel/coding/decodeTables.js';
import { encodeWeights } from '../../../src/qmodel/coding/weights.js';
import { laplacianWeights, makeRng } from '../../helpers/randomModel.js';

describe('coding statistics', () => {
  it('count zeros, entropy and bits per weight (hand example)', () => {
    // Values 0,0,1,-1: p = 1/2, 1/4, 1/4 -> H = 1.5 bits.
    const values = [0, 0, 1, -1, 0, 0, 1, -1];
    const packed = codingStats(encodeWeights(values, 2, 4, 3, 'packed'));
    expect(packed).toMatchObject({
      weights: 8,
      zeros: 4,
      sparsity: 0.5,
      entropy: 1.5,
      tokens: 8,
      codedBits: 24,
    });
    expect(packed.bitsPerWeight).toBe(3);
    const huff = encodeWeights(values, 2, 4, 3, 'huffman');
    const hs = codingStats(huff);
    // Code lengths 1, 2, 2 -> 4*1 + 2*2 + 2*2 = 12 bits.
    expect(hs.codedBits).toBe(12);
    // Flash table: L = 2, so firstCode, count and offset have 3 entries each, plus 3 symbols:
    // 12 uint16 = 24 bytes.
    expect(hs.tableBytes).toBe(24);
    expect(hs.tableBytes).toBe(tableBytes(huff));
    expect(hs.bitsPerWeight).toBe((12 + 8 * 24) / 8);
    // rle: rows [0 0 1 -1] -> run2, 1, -1: tokens run2, 1, 255 twice: H = log2(3).
    const rs = codingStats(encodeWeights(values, 2, 4, 3, 'rle-huffman'));
    expect(rs.tokens).toBe(6);
    expect(rs.tokenEntropy).toBeCloseTo(Math.log2(3), 12);
    expect(rs.entropy).toBe(1.5);
    expect(shannonEntropy([])).toBe(0);
    expect(shannonEntropy([7, 7, 7])).toBe(0);
  });
});

describe('entropy bound check', () => {
  it('finds Huffman within 3% of n*H on Laplacian-like quantized weights', () => {
    const rng = makeRng(41);
    for (const [bits, scale, sparsity] of [
      [8, 6, 0],
      [6, 3, 0.2],
      [4, 1.5, 0],
    ] as const) {
      const values = laplacianWeights(rng, 20000, bits, scale, sparsity);
      const cw = encodeWeights(values, 100, 200, bits, 'huffman');
      const r = entropyBoundReport(cw);
      expect(r.tokens).toBe(20000);
      expect(r.entropy).toBeCloseTo(shannonEntropy(values), 12);
      expect(r.codedBits).toBeGreaterThanOrEqual(r.boundBits); // no prefix code beats the entropy
      expect(r.streamExcess).toBeLessThan(0.03);
      expect(r.withinTolerance).toBe(true);
      expect(r.tableBits).toBe(8 * tableBytes(cw));
      expect(r.totalExcess).toBeCloseTo((r.codedBits + r.tableBits) / (r.boundBits + r.tableBits) - 1, 12);
    }
  });

  it('reports low-entropy streams Huffman cannot approach (at least 1 bit per token)', () => {
    const values = Int8Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 1 : 0));
    const r = entropyBoundReport(encodeWeights(values, 10, 100, 4, 'huffman'));
    expect(r.codedBits).toBe(1000);
    expect(r.streamExcess).toBeGreaterThan(5);
    expect(r.withinTolerance).toBe(false);
    // Run-length tokens fix most of it.
    const rle = entropyBoundReport(encodeWeights(values, 10, 100, 4, 'rle-huffman'));
    expect(rle.codedBits).toBeLessThan(100);
  });
});
