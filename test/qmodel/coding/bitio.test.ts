import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter } from '../../../src/qmodel/coding/bitio.js';
import { encodePacked, fromField, toField } from '../../../src/qmodel/coding/packed.js';
import { decodeWeights, encodeWeights } from '../../../src/qmodel/coding/weights.js';
import { weightRange } from '../../../src/fixedpoint/semantics.js';
import { makeRng, randInt } from '../../helpers/randomModel.js';

describe('bit I/O', () => {
  it('writes MSB-first without byte alignment', () => {
    const w = new BitWriter();
    w.write(0b101, 3);
    w.write(0b11110000, 8);
    w.write(1, 1);
    // 101 11110 | 000 1 0000
    expect([...w.finish().bitstream]).toEqual([0b10111110, 0b00010000]);
    expect(w.bitLength).toBe(12);
  });

  it('round-trips random fields of 0..24 bits', () => {
    const rng = makeRng(1);
    const fields: [number, number][] = [];
    const w = new BitWriter();
    for (let i = 0; i < 2000; i++) {
      const n = randInt(rng, 0, 24);
      const v = n === 0 ? 0 : randInt(rng, 0, 2 ** n - 1);
      fields.push([v, n]);
      w.write(v, n);
    }
    const { bitstream, bitLength } = w.finish();
    expect(bitstream.length).toBe(Math.ceil(bitLength / 8));
    const r = new BitReader(bitstream);
    for (const [v, n] of fields) expect(r.read(n)).toBe(v);
    expect(r.pos).toBe(bitLength);
    expect(r.corrupt).toBe(false);
  });

  it('reads zeros past the end and flags only consumption past the end', () => {
    const r = new BitReader(Uint8Array.of(0xff));
    expect(r.peek(12)).toBe(0xff0); // peeking past the end is allowed and not corrupt
    expect(r.corrupt).toBe(false);
    expect(r.read(8)).toBe(0xff);
    expect(r.corrupt).toBe(false);
    expect(r.readBit()).toBe(0);
    expect(r.corrupt).toBe(true);
    expect(new BitReader(new Uint8Array(0)).read(5)).toBe(0);
  });
});

describe('packed fields', () => {
  it('lays out two-s complement fields as documented', () => {
    expect([...encodePacked([-1, 2], 4).bitstream]).toEqual([0xf2]); // 1111 0010
    // 001 110 011 -> 00111001 1.......
    const p = encodePacked([1, -2, 3], 3);
    expect([...p.bitstream]).toEqual([0x39, 0x80]);
    expect(p.bitLength).toBe(9);
  });

  for (let bits = 2; bits <= 8; bits++) {
    it(`round-trips every ${bits}-bit value`, () => {
      const [lo, hi] = weightRange(bits);
      for (let v = lo; v <= hi; v++) expect(fromField(toField(v, bits), bits)).toBe(v);
      const rng = makeRng(bits);
      const rows = 7;
      const rowLength = 13;
      const values = Int8Array.from({ length: rows * rowLength }, () => randInt(rng, lo, hi));
      const cw = encodeWeights(values, rows, rowLength, bits, 'packed');
      expect(cw.bitLength).toBe(rows * rowLength * bits);
      expect(cw.table).toBeUndefined();
      const d = decodeWeights(cw);
      expect(d.corrupt).toBe(false);
      expect([...d.values]).toEqual([...values]);
    });
  }
});
