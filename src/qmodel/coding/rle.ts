// Tokens of the Huffman codings (src/qmodel/model.ts): literals 0..255 (the weight's low byte),
// zero runs 256..511 (run length = token - 255, 1..MAX_RUN), runs never crossing a row boundary.
import { MAX_RUN, TOKEN_RUN_BASE } from '../model.js';

/** Literal token of a weight value: its two's-complement low byte. */
export function literalToken(value: number): number {
  return value & 0xff;
}

/** Weight value of a literal token (sign-extends the byte). */
export function tokenValue(token: number): number {
  return (token << 24) >> 24;
}

/** Token of a run of `n` zeros, n in 1..MAX_RUN. */
export function runToken(n: number): number {
  return TOKEN_RUN_BASE + n - 1;
}

export function isRunToken(token: number): boolean {
  return token >= TOKEN_RUN_BASE;
}

/** Number of zeros of a run token. */
export function runLength(token: number): number {
  return token - (TOKEN_RUN_BASE - 1);
}

/**
 * Tokens of a weight matrix, row by row. Without `rle` every weight is a literal ('huffman');
 * with it, maximal zero runs are split greedily into MAX_RUN-long pieces plus a remainder
 * ('rle-huffman'); a row's trailing zeros end with a run token.
 */
export function tokenize(
  values: ArrayLike<number>,
  rows: number,
  rowLength: number,
  rle: boolean,
): Uint16Array {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * rowLength;
    let run = 0;
    for (let i = 0; i < rowLength; i++) {
      const v = values[base + i];
      if (rle && v === 0) {
        run++;
        if (run === MAX_RUN) {
          out.push(runToken(run));
          run = 0;
        }
        continue;
      }
      if (run > 0) {
        out.push(runToken(run));
        run = 0;
      }
      out.push(literalToken(v));
    }
    if (run > 0) out.push(runToken(run));
  }
  return Uint16Array.from(out);
}
