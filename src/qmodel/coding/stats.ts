// Per-layer coding statistics and the check "how close is the Huffman stream to the entropy bound".
import type { CodedWeights } from '../model.js';
import { tableBytes } from './decodeTables.js';
import { tokenize } from './rle.js';
import { decodeWeights } from './weights.js';

/** Shannon entropy in bits per symbol of a sample (0 for an empty or constant sample). */
export function shannonEntropy(symbols: ArrayLike<number>): number {
  const n = symbols.length;
  if (n === 0) return 0;
  const freq = new Map<number, number>();
  for (let i = 0; i < n; i++) freq.set(symbols[i], (freq.get(symbols[i]) ?? 0) + 1);
  let h = 0;
  for (const c of freq.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

export interface CodingStats {
  coding: CodedWeights['coding'];
  bits: number;
  weights: number;
  zeros: number;
  /** zeros / weights. */
  sparsity: number;
  /** Entropy of the weight values, bits per weight. */
  entropy: number;
  /** Tokens the coding emits ('packed': one per weight; 'huffman': literals; 'rle-huffman': literals and runs). */
  tokens: number;
  /** Entropy of those tokens, bits per token. */
  tokenEntropy: number;
  codedBits: number;
  tableBytes: number;
  /** (codedBits + 8 * tableBytes) / weights. */
  bitsPerWeight: number;
}

/** Statistics of a coded layer (decodes it to see the values). */
export function codingStats(cw: CodedWeights): CodingStats {
  const { values } = decodeWeights(cw);
  const weights = values.length;
  let zeros = 0;
  for (let i = 0; i < weights; i++) if (values[i] === 0) zeros++;
  const tokens =
    cw.coding === 'packed' ? values : tokenize(values, cw.rows, cw.rowLength, cw.coding === 'rle-huffman');
  const tb = tableBytes(cw);
  return {
    coding: cw.coding,
    bits: cw.bits,
    weights,
    zeros,
    sparsity: weights ? zeros / weights : 0,
    entropy: shannonEntropy(values),
    tokens: tokens.length,
    tokenEntropy: shannonEntropy(tokens),
    codedBits: cw.bitLength,
    tableBytes: tb,
    bitsPerWeight: weights ? (cw.bitLength + 8 * tb) / weights : 0,
  };
}

export interface EntropyBoundReport {
  /** Tokens coded. */
  tokens: number;
  /** Their entropy, bits per token. */
  entropy: number;
  /** tokens * entropy: no code of these tokens (one code per token) is shorter. */
  boundBits: number;
  codedBits: number;
  tableBits: number;
  /** codedBits / boundBits - 1 (Infinity when the bound is 0 and bits were spent). */
  streamExcess: number;
  /** (codedBits + tableBits) / (boundBits + tableBits) - 1. */
  totalExcess: number;
  /** streamExcess <= tolerance. */
  withinTolerance: boolean;
  tolerance: number;
}

/**
 * Compares a Huffman-coded layer's bitstream with the entropy bound of its tokens. Huffman spends
 * at least one bit per token, so very low-entropy streams (H << 1) cannot meet a tight tolerance:
 * read the report, not only the verdict. For 'packed' the tokens are the weights.
 */
export function entropyBoundReport(cw: CodedWeights, tolerance = 0.03): EntropyBoundReport {
  const s = codingStats(cw);
  const boundBits = s.tokens * s.tokenEntropy;
  const tableBits = 8 * s.tableBytes;
  const ratio = (a: number, b: number): number => (b > 0 ? a / b - 1 : a > 0 ? Infinity : 0);
  const streamExcess = ratio(cw.bitLength, boundBits);
  return {
    tokens: s.tokens,
    entropy: s.tokenEntropy,
    boundBits,
    codedBits: cw.bitLength,
    tableBits,
    streamExcess,
    totalExcess: ratio(cw.bitLength + tableBits, boundBits + tableBits),
    withinTolerance: streamExcess <= tolerance,
    tolerance,
  };
}
