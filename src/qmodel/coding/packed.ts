// 'packed' coding: every weight as a `bits`-bit two's-complement field, rows back to back.
import { BitWriter } from './bitio.js';

/** The `bits`-bit two's-complement field of a weight value. */
export function toField(value: number, bits: number): number {
  return value & ((1 << bits) - 1);
}

/** Sign-extends a `bits`-bit field. */
export function fromField(field: number, bits: number): number {
  return field >= 1 << (bits - 1) ? field - (1 << bits) : field;
}

/** Packs values (already checked to fit `bits` signed bits). */
export function encodePacked(
  values: ArrayLike<number>,
  bits: number,
): { bitstream: Uint8Array; bitLength: number } {
  const w = new BitWriter();
  for (let i = 0; i < values.length; i++) w.write(toField(values[i], bits), bits);
  return w.finish();
}
