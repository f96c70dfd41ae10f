// The Huffman decode tables exactly as the target embeds them in flash (layout in
// src/qmodel/model.ts: flashTableParts), plus the host decoder's in-memory lookup table, and the token
// decoder that walks them. The host reference decodes with decodeToken; the C decoder builds its own
// RAM lookup table from the flash parts and decodes the same canonical code, so host and target
// agree bit for bit.
import { TinyforgeError } from '../../util/errors.js';
import { HUFFMAN_LUT_BITS, type CodedWeights, type HuffmanTable } from '../model.js';
import type { BitReader } from './bitio.js';
import { firstCodes, huffmanTableProblem } from './huffman.js';

/**
 * The uint16 arrays of a code's flash table, in flash order (firstCode | count | offset | symbols,
 * back to back in one array).
 */
export interface FlashTableParts {
  /** maxLength. */
  L: number;
  /** [L + 1] canonical first code of each length. */
  firstCode: Uint16Array;
  /** [L + 1] number of codes of each length. */
  count: Uint16Array;
  /** [L + 1] index in symbols of the first code of each length. */
  offset: Uint16Array;
  /** [n] tokens in canonical order. */
  symbols: Uint16Array;
}

/** The host decoder's tables: the flash parts plus an in-memory LUT (host only, never in flash). */
export interface DecodeTables extends FlashTableParts {
  /** LUT index width: min(maxLength, HUFFMAN_LUT_BITS). */
  K: number;
  /** [1 << K]: (length << 9) | symbolIndex for codes of length <= K, 0 = slow path. */
  lut: Uint16Array;
}

/** LUT entries pack the code length above a 9-bit symbol index (up to 512 tokens). */
export const LUT_LENGTH_SHIFT = 9;
export const LUT_INDEX_MASK = (1 << LUT_LENGTH_SHIFT) - 1;

/** Returned by decodeToken when no code matches (the stream is corrupt). */
export const NO_TOKEN = -1;

function checkedTable(table: HuffmanTable): HuffmanTable {
  const problem = huffmanTableProblem(table);
  if (problem) throw new TinyforgeError(`cannot build decode tables: ${problem}`, 'model');
  return table;
}

function canonicalParts(table: HuffmanTable): FlashTableParts {
  const L = table.maxLength;
  const count = Uint16Array.from(table.counts);
  const offset = new Uint16Array(L + 1);
  for (let l = 1; l <= L; l++) offset[l] = offset[l - 1] + count[l - 1];
  return {
    L,
    firstCode: Uint16Array.from(firstCodes(table.counts)),
    count,
    offset,
    symbols: Uint16Array.from(table.symbols),
  };
}

/**
 * The arrays the target embeds in flash for a code, in flash order; throws TinyforgeError('model')
 * if the table is not a valid code. Their total length is decodeTableBytes(table) / 2.
 */
export function flashTableParts(table: HuffmanTable): FlashTableParts {
  return canonicalParts(checkedTable(table));
}

/** Builds the host decoder's tables; throws TinyforgeError('model') if the table is not a valid code. */
export function buildDecodeTables(table: HuffmanTable): DecodeTables {
  const parts = canonicalParts(checkedTable(table));
  const { L, firstCode, count, offset } = parts;
  const K = Math.min(L, HUFFMAN_LUT_BITS);
  const lut = new Uint16Array(1 << K);
  for (let l = 1; l <= K; l++) {
    for (let i = 0; i < count[l]; i++) {
      const code = firstCode[l] + i;
      const entry = (l << LUT_LENGTH_SHIFT) | (offset[l] + i);
      const lo = code << (K - l);
      lut.fill(entry, lo, lo + (1 << (K - l)));
    }
  }
  return { ...parts, K, lut };
}

/** Flash bytes of the tables of a code: 2 * (3 * (L + 1) + n), the uint16 entries of flashTableParts. */
export function decodeTableBytes(table: HuffmanTable): number {
  return 2 * (3 * (table.maxLength + 1) + table.symbols.length);
}

/** Decode-table bytes a layer adds to flash (0 for 'packed'). */
export function tableBytes(cw: CodedWeights): number {
  return cw.coding === 'packed' || !cw.table ? 0 : decodeTableBytes(cw.table);
}

/**
 * Decodes one token (host): in-memory LUT on the next K bits; otherwise consume K bits and extend
 * the code one bit at a time for lengths K+1..L through the canonical parts. Returns NO_TOKEN when
 * nothing matches (corrupt stream). Reads past the end of the stream are zero bits and the reader
 * flags them.
 */
export function decodeToken(r: BitReader, t: DecodeTables): number {
  const p = r.peek(t.K);
  const e = t.lut[p];
  if (e !== 0) {
    r.skip(e >>> LUT_LENGTH_SHIFT);
    return t.symbols[e & LUT_INDEX_MASK];
  }
  let code = p;
  r.skip(t.K);
  for (let l = t.K + 1; l <= t.L; l++) {
    code = (code << 1) | r.readBit();
    const d = code - t.firstCode[l];
    if (d >= 0 && d < t.count[l]) return t.symbols[t.offset[l] + d];
  }
  return NO_TOKEN;
}
