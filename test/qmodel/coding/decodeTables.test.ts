import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../../../src/qmodel/coding/bitio.js';
import {
  buildDecodeTables,
  decodeTableBytes,
  decodeToken,
  flashTableParts,
  NO_TOKEN,
  tableBytes,
} from '../../../src/qmodel/coding/decodeTables.js';
import { canonicalCodes, canonicalTable } from '../../../src/qmodel/coding/huffman.js';
import { encodeWeights } from '../../../src/qmodel/coding/weights.js';
import type { HuffmanTable } from '../../../src/qmodel/model.js';
import { makeRng, randInt } from '../../helpers/randomModel.js';

/** Plain canonical decoder: one bit at a time, look the (length, code) pair up. */
function codeMap(table: HuffmanTable): Map<string, number> {
  const byCode = new Map<string, number>();
  for (const [tok, c] of canonicalCodes(table)) byCode.set(`${c.length}:${c.code}`, tok);
  return byCode;
}

function bitByBitDecode(r: BitReader, table: HuffmanTable, byCode: Map<string, number>): number {
  let code = 0;
  for (let l = 1; l <= table.maxLength; l++) {
    code = (code << 1) | r.readBit();
    const tok = byCode.get(`${l}:${code}`);
    if (tok !== undefined) return tok;
  }
  return NO_TOKEN;
}

/** A random valid canonical table: random lengths filled until Kraft would exceed 1 (maybe incomplete). */
function randomTable(rng: () => number, maxLen: number): HuffmanTable {
  const lengths = new Map<number, number>();
  let kraft = 0;
  const n = randInt(rng, 1, 120);
  const tokens = [...Array(512).keys()].sort(() => rng() - 0.5).slice(0, n);
  for (const t of tokens) {
    const l = randInt(rng, 1, maxLen);
    if (kraft + 2 ** -l <= 1) {
      kraft += 2 ** -l;
      lengths.set(t, l);
    }
  }
  return canonicalTable(lengths);
}

describe('flash decode tables', () => {
  it('have the documented layout: firstCode | count | offset | symbols (hand-built example)', () => {
    // Codes: A=0, B=10, C=110, D=111; L = 3.
    const table: HuffmanTable = { counts: [0, 1, 1, 2], symbols: [65, 66, 67, 68], maxLength: 3 };
    const p = flashTableParts(table);
    // Flash order is the key order; no lookup table among them.
    expect(Object.keys(p)).toEqual(['L', 'firstCode', 'count', 'offset', 'symbols']);
    expect(p.L).toBe(3);
    expect([...p.firstCode]).toEqual([0, 0, 2, 6]);
    expect([...p.count]).toEqual([0, 1, 1, 2]);
    expect([...p.offset]).toEqual([0, 0, 1, 2]);
    expect([...p.symbols]).toEqual([65, 66, 67, 68]);
    // 4 + 4 + 4 entries for lengths 0..3, 4 symbols: 16 uint16.
    expect(decodeTableBytes(table)).toBe(32);
  });

  it('cost 2 * (3 * (L + 1) + n) bytes (L = 9, n = 20 by hand)', () => {
    // Lengths 3, 4, 5, 6 four times each, 7 twice, 9 twice: Kraft 1/2 + 1/4 + 1/8 + 1/16 + 1/64 + 1/256 < 1.
    const lengths = new Map<number, number>();
    const byLength = [
      [3, 4],
      [4, 4],
      [5, 4],
      [6, 4],
      [7, 2],
      [9, 2],
    ];
    let tok = 0;
    for (const [l, k] of byLength) for (let i = 0; i < k; i++) lengths.set(tok++, l);
    const table = canonicalTable(lengths);
    expect(table.maxLength).toBe(9);
    expect(table.symbols.length).toBe(20);
    const p = flashTableParts(table);
    expect([p.firstCode.length, p.count.length, p.offset.length, p.symbols.length]).toEqual([10, 10, 10, 20]);
    // 30 per-length entries + 20 symbols = 50 uint16 = 100 bytes (it was 228 with the 64-entry LUT).
    expect(decodeTableBytes(table)).toBe(100);
  });

  it('are the canonical parts the host decoder walks, and their size is decodeTableBytes', () => {
    const rng = makeRng(13);
    for (let trial = 0; trial < 40; trial++) {
      const table = randomTable(rng, randInt(rng, 1, 15));
      const p = flashTableParts(table);
      const host = buildDecodeTables(table);
      expect(p.L).toBe(host.L);
      for (const k of ['firstCode', 'count', 'offset', 'symbols'] as const) expect(p[k]).toEqual(host[k]);
      const entries = p.firstCode.length + p.count.length + p.offset.length + p.symbols.length;
      expect(3 * (table.maxLength + 1) + table.symbols.length).toBe(entries);
      expect(decodeTableBytes(table)).toBe(2 * entries);
    }
  });
});

describe('host decode tables', () => {
  it('have an in-memory LUT over K = min(L, 6) bits (hand-built example)', () => {
    // Codes: A=0, B=10, C=110, D=111; K = min(3, 6) = 3.
    const t = buildDecodeTables({ counts: [0, 1, 1, 2], symbols: [65, 66, 67, 68], maxLength: 3 });
    expect(t.K).toBe(3);
    expect(t.L).toBe(3);
    const a = (1 << 9) | 0;
    const b = (2 << 9) | 1;
    expect([...t.lut]).toEqual([a, a, a, a, b, b, (3 << 9) | 2, (3 << 9) | 3]);
    expect([...t.firstCode]).toEqual([0, 0, 2, 6]);
    expect([...t.count]).toEqual([0, 1, 1, 2]);
    expect([...t.offset]).toEqual([0, 0, 1, 2]);
    expect([...t.symbols]).toEqual([65, 66, 67, 68]);
  });

  it('leave LUT entries of codes longer than K at 0', () => {
    // Lengths 1..8 plus a second 8: complete code, L = 8 > K = 6.
    const table = canonicalTable(
      new Map([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 6],
        [7, 7],
        [8, 8],
        [9, 8],
      ]),
    );
    const t = buildDecodeTables(table);
    expect(t.K).toBe(6);
    expect(t.lut.length).toBe(64);
    // Only prefix 111111 starts a code longer than 6 bits (7 and 8 bits long).
    expect(t.lut[0b111111]).toBe(0);
    expect([...t.lut].filter((e) => e === 0).length).toBe(1);
    expect(t.lut[0b111110]).toBe((6 << 9) | 5);
    // The LUT is not in flash: 9 entries each for firstCode, count, offset (lengths 0..8), 9 symbols.
    expect(decodeTableBytes(table)).toBe(2 * (9 + 9 + 9 + 9));
  });

  it('decode like a plain bit-by-bit canonical decoder on random tables and random bits', () => {
    const rng = makeRng(11);
    for (let trial = 0; trial < 60; trial++) {
      const table = randomTable(rng, randInt(rng, 1, 15));
      const tables = buildDecodeTables(table);
      const byCode = codeMap(table);
      const bytes = Uint8Array.from({ length: 64 }, () => randInt(rng, 0, 255));
      const fast = new BitReader(bytes);
      const slow = new BitReader(bytes);
      for (let i = 0; i < 150; i++) {
        const a = decodeToken(fast, tables);
        const b = bitByBitDecode(slow, table, byCode);
        expect(a).toBe(b);
        // After a miss the LUT decoder has consumed max(K, L) = L bits, as has the plain one.
        expect(fast.pos).toBe(slow.pos);
        expect(fast.corrupt).toBe(slow.corrupt);
      }
    }
  });

  it('decode every code of a valid table back to its token', () => {
    const rng = makeRng(12);
    for (let trial = 0; trial < 30; trial++) {
      const table = randomTable(rng, 15);
      const codes = canonicalCodes(table);
      const w = new BitWriter();
      for (const t of table.symbols) w.write(codes.get(t)!.code, codes.get(t)!.length);
      const r = new BitReader(w.finish().bitstream);
      const tables = buildDecodeTables(table);
      expect(table.symbols.map(() => decodeToken(r, tables))).toEqual(table.symbols);
      expect(r.pos).toBe(w.bitLength);
    }
  });

  it('refuse an invalid table and cost nothing for packed layers', () => {
    expect(() => buildDecodeTables({ counts: [0, 3], symbols: [1, 2, 3], maxLength: 1 })).toThrow(
      /over-subscribed/,
    );
    expect(() => flashTableParts({ counts: [0, 3], symbols: [1, 2, 3], maxLength: 1 })).toThrow(
      /over-subscribed/,
    );
    expect(tableBytes(encodeWeights([1, 2, 3], 1, 3, 4, 'packed'))).toBe(0);
  });
});
