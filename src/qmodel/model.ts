// The compressed model in memory: what `compress` produces, the .tfm file stores (src/qmodel),
// the host reference interprets (src/reference) and the C generator compiles (src/codegen).
//
// Only deployable ops remain: the float graph's deployable form (src/graph/fold.ts) quantized by
// each operator module (src/ops).
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

/**
 * One quantized layer. Its operator module (src/ops/<kind>.ts) declares the fields beyond these
 * (formats, weights, window geometry) and owns their meaning. int8 in, int8 out; a layer's output
 * tensor has its name, and it reads `inputs` (absent: the previous layer's output).
 */
export interface QLayer {
  readonly kind: string;
  name: string;
  inputs?: readonly string[];
  /** Channels last, rank 2 or 3 (src/graph/types.ts Shape). */
  inShape: number[];
  outShape: number[];
}

/**
 * How a model's integers relate to real values. 'pow2' (absent): tinyforge's own scheme, every tensor
 * an int8 with a power-of-two scale (`inputFrac`, each layer's fractional bits, src/fixedpoint/
 * semantics.ts). 'tflite-int8': TensorFlow Lite's affine int8 scheme, kept from an imported fully
 * int8 .tflite: each tensor has a scale and a zero point (real = scale * (q - zeroPoint)), weights are
 * symmetric int8 per channel or per tensor, biases int32, and every operator computes as TFLite's
 * reference kernels do (src/fixedpoint/tflite.ts). The scheme selects each operator's `int8` part.
 */
export type Scheme = 'pow2' | 'tflite-int8';

/** One tensor's affine quantization: real = scale * (q - zeroPoint). */
export interface AffineQuant {
  scale: number;
  zeroPoint: number;
}

export interface CompressedModel {
  /** Absent: 'pow2'. */
  scheme?: Scheme;
  /**
   * tflite-int8 only: the model input's quantization (a float window x is normalized, then
   * q = clamp(round(x_norm / scale) + zeroPoint)) and the output's (dequantization of the result).
   */
  affine?: { input: AffineQuant; output: AffineQuant };
  /** [T, C] of one input window. */
  inputShape: [number, number];
  classNames: string[];
  /** Raw sensor value x becomes int8 q = quantizeInput((x - mean[c]) / std[c], inputFrac). */
  normalization: { mean: number[]; std: number[] };
  /** pow2: fractional bits of the int8 input (tflite-int8: 0, unused). */
  inputFrac: number;
  layers: QLayer[];
  /** Free-form provenance: settings used, float accuracy, tool version. */
  meta: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Huffman decode tables on the target (flash, section .rodata.tf_tables.<layer>): one uint16 array
// per layer, built by flashTableParts in src/qmodel/coding/decodeTables.ts and embedded verbatim by
// the C generator, so that the size the compressor reports is the size the linker map shows
// (L = maxLength, n = symbols.length):
//   firstCode[L + 1] uint16: canonical first code of each length l = 0..L
//   count[L + 1]     uint16: number of codes of each length
//   offset[L + 1]    uint16: index in symbols[] of the first code of each length
//   symbols[n]       uint16: tokens in canonical order
// A code of length l decodes as: if code - firstCode[l] < count[l] the token is
// symbols[offset[l] + code - firstCode[l]]; no match by length L = corrupt stream.
// Table bytes = 2 * (3 * (L + 1) + n). There is no lookup table in flash: the C decoder builds
// its own RAM lookup table from these parts at layer start (templates/decoders/huffman.c.hbs).
//
// HUFFMAN_LUT_BITS is the index width of the host reference decoder's in-memory lookup table
// (K = min(maxLength, HUFFMAN_LUT_BITS) bits, then the canonical slow path for lengths K+1..L). It
// is a host speed detail: it changes neither the decoded tokens nor any byte on the target.
export const HUFFMAN_LUT_BITS = 6;

/** The scheme of a model ('pow2' when it does not say). */
export function schemeOf(model: Pick<CompressedModel, 'scheme'>): Scheme {
  return model.scheme ?? 'pow2';
}
