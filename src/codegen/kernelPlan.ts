// Compile-time decisions for the Conv1D/Conv2D/Dense kernels (templates/kernels/weighted.c.hbs):
// geometry of the int16 input copy (contiguous windows, or a grid's phase-split copy), dense (SMLAD
// over four decoded filters) or sparse (non-zero list) inner loop, and the size of the RAM Huffman
// decode table. The compiler knows every weight, so it estimates the
// instructions of each choice from the actual rows and code lengths. The estimates are per-instruction
// counts of the Cortex-M4 loops (see the templates); they only need to rank the choices.
import type { CodedWeights } from '../qmodel/model.js';
import { canonicalCodes, kraftSum, tokenize } from '../qmodel/coding/index.js';

/** Largest RAM decode table: 2^10 words (4 KB); a window then always holds two tokens. */
export const MAX_LUT_BITS = 10;
/** Time steps per pass over a sparse list (accumulators in registers, with seven more). */
export const SPARSE_MAX_TB = 6;
/** Largest byte offset of an LDRSH immediate (Thumb-2). */
const LDRSH_MAX_OFFSET = 4095;
/** A sparse list word holds a byte offset in 16 bits. */
export const SPARSE_MAX_ROW = 0x7fff;

export interface Geometry {
  /** Input time steps and channels (a Dense layer is one step of F channels). */
  T: number;
  C: number;
  k: number;
  stride: number;
  padLeft: number;
  /** Output time steps and channels. */
  L: number;
  cout: number;
  /**
   * Windows that are not one contiguous run of the int16 copy (2D kernels, dilation): the grid
   * they run over. Then T = H * W, L = OH * OW, k = kh * kw, and the copy is gridCopy's.
   */
  grid?: Grid;
}

/** A 2D window grid ([H, W, C] input, channels last); a dilated 1D window is the grid H = 1. */
export interface Grid {
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  OH: number;
  OW: number;
}

/**
 * The int16 copy of a grid's input: zero padded to Hp x Wp and, along W, split into dw phases
 * (column w goes to phase w % dw, slot w / dw), so that the taps of one kernel row, dw columns
 * apart, are adjacent: layout [Hp][dw][Wq][C]. A window is then kh segments of S = kw * C
 * contiguous values, segStep values apart; the kernel reads each segment as whole pairs (one value
 * past an odd segment, multiplied by a zero weight).
 */
export interface GridCopy {
  Hp: number;
  Wq: number;
  /** int16 values of the copy (even: it is zeroed a word at a time), one spare past the end. */
  count: number;
  /** Values per padded input row (all phases), and between a window's segments. */
  rowPitch: number;
  segStep: number;
  /** Segments per window, values per segment, pairs per segment. */
  segs: number;
  S: number;
  P: number;
}

export function gridCopy(g: Grid, C: number): GridCopy {
  const spanH = (g.kh - 1) * g.dh + 1;
  const spanW = (g.kw - 1) * g.dw + 1;
  const Hp = Math.max(g.padTop + g.H, (g.OH - 1) * g.sh + spanH);
  const Wp = Math.max(g.padLeft + g.W, (g.OW - 1) * g.sw + spanW);
  const Wq = Math.ceil(Wp / g.dw);
  const rowPitch = g.dw * Wq * C;
  const values = Hp * rowPitch + 1;
  const S = g.kw * C;
  return {
    Hp,
    Wq,
    count: values + (values % 2),
    rowPitch,
    segStep: g.dh * rowPitch,
    segs: g.kh,
    S,
    P: Math.ceil(S / 2),
  };
}

/** Index in the grid copy of input position (h, w) of the padded input, channel 0. */
export function gridIndex(c: GridCopy, g: Grid, C: number, h: number, w: number): number {
  return (h * g.dw + (w % g.dw)) * c.Wq * C + Math.floor(w / g.dw) * C;
}

export interface InputCopy {
  /** Zero values before / after the copied input (padding rows, plus one for an odd last pair). */
  zl: number;
  zr: number;
  /** int16 values in the copy. */
  count: number;
  /** int16 values between consecutive windows. */
  step: number;
}

export function inputCopy(g: Geometry): InputCopy {
  const padRight = Math.max(0, (g.L - 1) * g.stride + g.k - g.padLeft - g.T);
  const zl = g.padLeft * g.C;
  const zr = padRight * g.C + 1;
  return { zl, zr, count: zl + g.T * g.C + zr, step: g.stride * g.C };
}

export interface SparseBlocking {
  tb: number;
  blocks: number;
  lastStart: number;
  stepBytes: number;
}

export function sparseBlocking(g: Geometry): SparseBlocking {
  const stepBytes = 2 * g.stride * g.C;
  const byOffset = stepBytes > 0 ? 1 + Math.floor(LDRSH_MAX_OFFSET / stepBytes) : SPARSE_MAX_TB;
  const maxTb = Math.max(1, Math.min(SPARSE_MAX_TB, g.L, byOffset));
  // Passes of tb windows cost about 5 + 4 * tb per pair of non-zeros; the last pass may overlap
  // the one before, so pick the tb with the least work over all passes.
  let tb = 1;
  for (let c = 1; c <= maxTb; c++) {
    if (Math.ceil(g.L / c) * (5 + 4 * c) < Math.ceil(g.L / tb) * (5 + 4 * tb)) tb = c;
  }
  return { tb, blocks: Math.ceil(g.L / tb), lastStart: g.L - tb, stepBytes };
}

/** Estimated instructions of the dense inner loops (all rows, all windows). */
export function denseCost(g: Geometry, n: number, zeros: number): number {
  const pairs = Math.ceil(n / 2);
  const blocks = Math.ceil(g.cout / 4);
  // Per window and block: 6 instructions per pair (LDR, LDM, 4 SMLAD) + loop + requantization.
  // Decoding a zero run into the dense layout costs about 4 per zero.
  return blocks * g.L * (6.5 * pairs + 25) + 4 * zeros;
}

/** Estimated instructions of the sparse inner loops given each row's non-zero count. */
export function sparseCost(g: Geometry, nnzPerRow: number[]): number {
  const { tb, blocks } = sparseBlocking(g);
  let cost = 0;
  for (const nnz of nnzPerRow) {
    const pairs = Math.ceil(nnz / 2);
    // Per pass: LDRD + 2 UXTAH + 2 (LDRSH + SMLATB) per time step + loop, per pair of non-zeros.
    cost += blocks * (pairs * (5 + 4 * tb) + 12 + 3 * tb) + 10;
  }
  return cost;
}

/** Sparse list or dense SMLAD for a layer of `rows` rows (decoded values given). */
export function chooseSparse(g: Geometry, values: Int8Array, rows: number, n: number): boolean {
  // A list's byte offsets address one contiguous window; grid windows are segments.
  if (n > SPARSE_MAX_ROW || g.grid) return false;
  const nnz: number[] = [];
  let zeros = 0;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let i = r * n; i < (r + 1) * n; i++) if (values[i] !== 0) c++;
    nnz.push(c);
    zeros += n - c;
  }
  return sparseCost(g, nnz) < denseCost(g, n, zeros);
}

export interface LutChoice {
  /** Bits of the RAM decode table. */
  kb: number;
  /** Some prefixes need the canonical slow path (or match no code): the decoder must test. */
  checked: boolean;
}

/**
 * RAM decode-table size: building costs about 1.5 instructions per entry; without a slow path (every
 * code at most kb bits, complete code) each token saves a test of about 2; each token with a longer
 * code costs about 50 in the slow path.
 */
export function chooseLut(cw: CodedWeights, values: Int8Array): LutChoice {
  const table = cw.table!;
  const L = table.maxLength;
  const lengths = canonicalCodes(table);
  const tokens = tokenize(values, cw.rows, cw.rowLength, cw.coding === 'rle-huffman');
  const longer = new Array<number>(L + 2).fill(0); // longer[l] = tokens with a code of length l
  for (const t of tokens) longer[lengths.get(t)?.length ?? L]++;
  const complete = kraftSum(table) === 1;
  let best: LutChoice & { cost: number } = { kb: 1, checked: true, cost: Infinity };
  for (let kb = 1; kb <= Math.min(L, MAX_LUT_BITS); kb++) {
    let slow = 0;
    for (let l = kb + 1; l <= L; l++) slow += longer[l];
    const checked = !(complete && kb === L);
    const cost = 1.5 * 2 ** kb + (checked ? 2 * tokens.length : 0) + 50 * slow;
    if (cost < best.cost) best = { kb, checked, cost };
  }
  return { kb: best.kb, checked: best.checked };
}
