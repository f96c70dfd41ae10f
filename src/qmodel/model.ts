// The compressed model in memory: what `compress` produces, the .tfm file stores (src/qmodel),
// the host reference interprets (src/reference) and the C generator compiles (src/codegen).
//
// Only deployable ops remain: BatchNorm is folded, Dropout dropped, Softmax replaced by argmax,
// a ReLU directly after Conv1D/Dense fused into it (`relu: true`).
//
// Weight layout, all codings: one ROW per output channel, rows in output-channel order.
//   conv1d row o = w[o][j][c] for tap j = 0..k-1, input channel c = 0..Cin-1  (rowLength = k*Cin)
//   dense  row o = w[o][i]    for input feature i = t*C + c (channels-last flatten) (rowLength = F)
// Weight values are signed integers of `bits` bits (2..8).
//
// Bitstreams are one continuous stream per layer, rows back to back (not byte aligned), bits
// MSB-first inside each byte. Reading past the end of the array yields zero bits and marks the
// stream corrupt (host and C decoders alike), so a damaged stream can never read out of bounds.
//   packed:      each weight as a `bits`-bit two's-complement field.
//   huffman:     each weight as the canonical Huffman code of its TOKEN (below).
//   rle-huffman: tokens are literals (non-zero weights) and zero runs, Huffman coded together.
//                A run never crosses a row boundary; a row's trailing zeros end with a run token.
// TOKENS (uint16): t in 0..255 = literal weight value v with t = v & 0xFF (two's complement);
//                  t in 256..511 = a run of (t - 255) zeros (1..256), rle-huffman only.

export type Coding = 'packed' | 'huffman' | 'rle-huffman';
export const CODINGS: readonly Coding[] = ['packed', 'huffman', 'rle-huffman'];

/** Longest Huffman code the encoder may produce (the C decoder's slow path handles up to this). */
export const MAX_CODE_LENGTH = 15;

export const TOKEN_RUN_BASE = 256;
export const MAX_RUN = 256;

/**
 * Canonical Huffman code: codes are assigned in order of (length, position in `symbols`),
 * the first code of each length is (previous first code + previous count) << 1, as in DEFLATE.
 */
export interface HuffmanTable {
  /** counts[l] = number of codes of length l, for l = 0..maxLength (counts[0] = 0). */
  counts: number[];
  /** Tokens in canonical order. */
  symbols: number[];
  maxLength: number;
}

export interface CodedWeights {
  coding: Coding;
  bits: number;
  rows: number;
  rowLength: number;
  bitstream: Uint8Array;
  /** Number of meaningful bits in `bitstream` (bytes = ceil(bitLength / 8)). */
  bitLength: number;
  /** huffman and rle-huffman only. */
  table?: HuffmanTable;
}

interface LayerBase {
  name: string;
  inShape: [number, number];
  outShape: [number, number];
}

/** Conv1D and Dense: int8 in, int32 accumulate, requantize to int8 out. */
export interface QConv1D extends LayerBase {
  kind: 'conv1d';
  filters: number;
  kernelSize: number;
  stride: number;
  padding: 'same' | 'valid';
  /** Zero-padding before the first sample (Keras 'same': floor(total/2)). */
  padLeft: number;
  relu: boolean;
  inFrac: number;
  outFrac: number;
  /** Weight fractional bits: length 1 (per-layer) or `filters` (per-channel). */
  wFrac: number[];
  /** Per output channel, in the accumulator format (inFrac + wFrac[o] fractional bits). */
  bias: Int32Array;
  weights: CodedWeights;
}

export interface QDense extends LayerBase {
  kind: 'dense';
  units: number;
  relu: boolean;
  inFrac: number;
  outFrac: number;
  wFrac: number[];
  bias: Int32Array;
  weights: CodedWeights;
}

/** Pooling keeps the input's format; 'same' windows ignore padded positions (max) or do not count them (avg). */
export interface QPool extends LayerBase {
  kind: 'maxpool1d' | 'avgpool1d';
  poolSize: number;
  stride: number;
  padding: 'same' | 'valid';
  padLeft: number;
  frac: number;
}

export interface QGlobalAvgPool extends LayerBase {
  kind: 'gap1d';
  frac: number;
}

/** Flatten is a no-op on channels-last data; standalone ReLU is max(0, x) on int8. */
export interface QElementwise extends LayerBase {
  kind: 'flatten' | 'relu';
  frac: number;
}

export type QLayer = QConv1D | QDense | QPool | QGlobalAvgPool | QElementwise;

export interface CompressedModel {
  inputShape: [number, number];
  classNames: string[];
  /** Raw sensor value x becomes int8 q = quantizeInput((x - mean[c]) / std[c], inputFrac). */
  normalization: { mean: number[]; std: number[] };
  inputFrac: number;
  layers: QLayer[];
  /** Free-form provenance: settings used, float accuracy, tool version. */
  meta: Record<string, unknown>;
}

/** Per-channel fractional bits of a layer's weights for output channel o. */
export function wFracOf(layer: QConv1D | QDense, o: number): number {
  return layer.wFrac.length === 1 ? layer.wFrac[0] : layer.wFrac[o];
}

// ---------------------------------------------------------------------------------------------
// Huffman decode tables on the target (flash, section .rodata.tf_tables.<layer>), built by
// src/qmodel/coding/decodeTables.ts and embedded verbatim by the C generator, so that the size
// the compressor reports is the size the linker map shows. With K = min(maxLength, HUFFMAN_LUT_BITS):
//   lut[1 << K]      uint16: for each K-bit prefix p, if a code of length l <= K is a prefix of p,
//                    (l << 9) | symbolIndex; 0 when the code is longer than K (slow path).
//   firstCode[L + 1] uint16: canonical first code of each length l = 0..L (L = maxLength)
//   count[L + 1]     uint16: number of codes of each length
//   offset[L + 1]    uint16: index in symbols[] of the first code of each length
//   symbols[n]       uint16: tokens in canonical order
// Slow path: code = the K peeked bits, consume them, then for l = K+1..L: code = (code << 1) | bit;
// if code - firstCode[l] < count[l] the token is symbols[offset[l] + code - firstCode[l]].
// No match by length L = corrupt stream. Table bytes = 2 * (2^K + 3 * (L + 1) + n).
export const HUFFMAN_LUT_BITS = 6;
