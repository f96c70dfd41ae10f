import { describe, expect, it } from 'vitest';
import { tokenize, runToken } from '../../../src/qmodel/coding/rle.js';
import {
  codedBytes,
  decodeWeights,
  encodeAllCodings,
  encodeWeights,
  RowDecoder,
} from '../../../src/qmodel/coding/weights.js';
import { weightRange } from '../../../src/fixedpoint/semantics.js';
import { CODINGS, MAX_RUN, type CodedWeights } from '../../../src/qmodel/model.js';
import { laplacianWeights, makeRng, randInt } from '../../helpers/randomModel.js';

function roundTrip(values: Int8Array, rows: number, rowLength: number, bits: number): void {
  for (const coding of CODINGS) {
    const cw = encodeWeights(values, rows, rowLength, bits, coding);
    expect(cw.coding).toBe(coding);
    expect(cw.bitstream.length).toBe(Math.ceil(cw.bitLength / 8));
    const d = decodeWeights(cw);
    expect(d.corrupt).toBe(false);
    expect(d.values).toEqual(values);
  }
}

describe('rle tokens', () => {
  it('split zero runs at MAX_RUN and at row ends', () => {
    expect([...tokenize([0, 0, 3, 0, -1, 0, 0], 1, 7, true)]).toEqual([
      runToken(2),
      3,
      runToken(1),
      255,
      runToken(2),
    ]);
    // Two rows: the run at the end of row 0 stops there.
    expect([...tokenize([5, 0, 0, 0], 2, 2, true)]).toEqual([5, runToken(1), runToken(2)]);
    const long = new Int8Array(600);
    expect([...tokenize(long, 1, 600, true)]).toEqual([runToken(MAX_RUN), runToken(MAX_RUN), runToken(88)]);
    expect(runToken(1)).toBe(256);
    expect(runToken(MAX_RUN)).toBe(511);
    expect([...tokenize([0, -2], 1, 2, false)]).toEqual([0, 254]);
  });
});

describe('weight coding round trips', () => {
  it('on random matrices of every width, shape and sparsity', () => {
    const rng = makeRng(21);
    for (let trial = 0; trial < 60; trial++) {
      const bits = randInt(rng, 2, 8);
      const rows = randInt(rng, 1, 12);
      const rowLength = randInt(rng, 1, 70);
      const [lo, hi] = weightRange(bits);
      const sparsity = rng();
      const values = Int8Array.from({ length: rows * rowLength }, () =>
        rng() < sparsity ? 0 : randInt(rng, lo, hi),
      );
      roundTrip(values, rows, rowLength, bits);
    }
  });

  it('on adversarial matrices', () => {
    roundTrip(new Int8Array(1), 1, 1, 2); // one weight, one symbol
    roundTrip(new Int8Array(2000), 4, 500, 4); // all zero, runs longer than MAX_RUN
    roundTrip(
      Int8Array.from({ length: 300 }, () => -128),
      3,
      100,
      8,
    ); // one non-zero symbol
    roundTrip(
      Int8Array.from({ length: 256 }, (_, i) => i - 128),
      16,
      16,
      8,
    ); // all distinct
    roundTrip(
      Int8Array.from({ length: 513 }, (_, i) => (i % 257 === 0 ? 1 : 0)),
      1,
      513,
      2,
    ); // runs of 256
    const rng = makeRng(22);
    roundTrip(laplacianWeights(rng, 5000, 8, 0.3), 50, 100, 8); // very skewed
    // Geometric distribution over 8-bit values hits the code-length limit.
    // Value v occurs 2^(15-v) times (v = 0..15): unlimited Huffman would need 15-bit codes.
    const geo = new Int8Array(65535);
    let k = 0;
    for (let v = 0; v < 16; v++) for (let c = 0; c < 2 ** (15 - v); c++) geo[k++] = v;
    const cw = encodeWeights(geo, 5, 13107, 8, 'huffman', { maxCodeLength: 12 });
    expect(cw.table!.maxLength).toBe(12);
    expect(decodeWeights(cw).values).toEqual(geo);
  });

  it('rejects values that do not fit the width', () => {
    expect(() => encodeWeights([2], 1, 1, 2, 'packed')).toThrow(/does not fit 2 signed bits/);
    expect(() => encodeWeights([1, 2], 1, 3, 4, 'huffman')).toThrow(/expected rows \* rowLength = 3/);
    expect(() => encodeWeights([1], 1, 1, 9, 'packed')).toThrow(/not supported/);
  });

  it('auto picks the smallest total of bitstream and tables', () => {
    const rng = makeRng(23);
    const dense = Int8Array.from({ length: 400 }, () => randInt(rng, -128, 127));
    const sparse = Int8Array.from({ length: 4000 }, () => (rng() < 0.9 ? 0 : randInt(rng, -8, 7)));
    for (const [values, bits, rows] of [
      [dense, 8, 4],
      [sparse, 4, 40],
    ] as const) {
      const all = encodeAllCodings(values, rows, values.length / rows, bits);
      const best = Math.min(...CODINGS.map((c) => codedBytes(all[c])));
      const auto = encodeWeights(values, rows, values.length / rows, bits, 'auto');
      expect(codedBytes(auto)).toBe(best);
    }
    expect(encodeWeights(dense, 4, 100, 8, 'auto').coding).toBe('packed');
    expect(encodeWeights(sparse, 40, 100, 4, 'auto').coding).toBe('rle-huffman');
  });
});

describe('decoding damaged streams', () => {
  const rng = makeRng(31);
  const values = laplacianWeights(rng, 2400, 6, 2, 0.5);
  const coded = CODINGS.map((c) => encodeWeights(values, 24, 100, 6, c));
  const [lo, hi] = weightRange(6);

  it('never throws on flipped bits and keeps the shape and the weight range', () => {
    let flagged = 0;
    for (const cw of coded) {
      for (let trial = 0; trial < 40; trial++) {
        const bs = cw.bitstream.slice();
        for (let f = 0; f < 1 + (trial % 4); f++)
          bs[randInt(rng, 0, bs.length - 1)] ^= 1 << randInt(rng, 0, 7);
        const d = decodeWeights({ ...cw, bitstream: bs });
        expect(d.values.length).toBe(values.length);
        expect(d.values.every((v) => v >= lo && v <= hi)).toBe(true);
        if (d.corrupt) flagged++;
      }
    }
    // Huffman streams mostly desynchronize and end at the wrong position; packed damage is undetectable.
    expect(flagged).toBeGreaterThan(40);
  });

  it('reports truncation and reads zeros for the missing bits', () => {
    for (const cw of coded) {
      for (const keep of [0, 1, Math.floor(cw.bitstream.length / 2), cw.bitstream.length - 1]) {
        const d = decodeWeights({ ...cw, bitstream: cw.bitstream.slice(0, keep) });
        expect(d.corrupt).toBe(true);
        expect(d.values.length).toBe(values.length);
      }
    }
    // Packed: what is left decodes exactly, the rest reads as zero bits.
    const packed = coded[0];
    const half = decodeWeights({ ...packed, bitstream: packed.bitstream.slice(0, 900) }).values; // 7200 bits = 1200 weights
    expect(half.subarray(0, 1200)).toEqual(values.subarray(0, 1200));
    expect(half.subarray(1200).every((v) => v === 0)).toBe(true);
  });

  it('reports a stream longer than its rows and a run past the row end', () => {
    const cw = coded[1];
    const longer = new Uint8Array(cw.bitstream.length + 1);
    longer.set(cw.bitstream);
    expect(decodeWeights({ ...cw, bitstream: longer, bitLength: cw.bitLength + 8 }).corrupt).toBe(true);
    // Row of 3 coded as a run of 5 zeros (table with a single run token).
    const bad: CodedWeights = {
      coding: 'rle-huffman',
      bits: 4,
      rows: 2,
      rowLength: 3,
      bitstream: Uint8Array.of(0),
      bitLength: 2,
      table: { counts: [0, 1], symbols: [runToken(5)], maxLength: 1 },
    };
    const d = decodeWeights(bad);
    expect(d.corrupt).toBe(true);
    expect([...d.values]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('flags a code that matches nothing and an invalid table without throwing', () => {
    // One 1-bit code "0": a 1 bit matches nothing.
    const cw: CodedWeights = {
      coding: 'huffman',
      bits: 4,
      rows: 1,
      rowLength: 2,
      bitstream: Uint8Array.of(0b01000000),
      bitLength: 2,
      table: { counts: [0, 1], symbols: [3], maxLength: 1 },
    };
    expect(decodeWeights(cw)).toEqual({ values: Int8Array.of(3, 0), corrupt: true });
    const overSubscribed = { ...cw, table: { counts: [0, 3], symbols: [1, 2, 3], maxLength: 1 } };
    expect(decodeWeights(overSubscribed)).toEqual({ values: new Int8Array(2), corrupt: true });
    const outOfRange = { ...cw, table: { counts: [0, 1], symbols: [100], maxLength: 1 } };
    expect(new RowDecoder(outOfRange).problem).toMatch(/outside the 4-bit range/);
    const runInHuffman = { ...cw, table: { counts: [0, 1], symbols: [runToken(1)], maxLength: 1 } };
    expect(new RowDecoder(runInHuffman).problem).toMatch(/zero-run token/);
    expect(decodeWeights({ ...cw, table: undefined }).corrupt).toBe(true);
    expect(decodeWeights({ ...cw, rows: 1e12 }).values.length).toBe(0);
    expect(decodeWeights({ ...cw, bitLength: 99 }).corrupt).toBe(true);
  });
});
