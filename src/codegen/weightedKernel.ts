// The kernel of a weighted layer (templates/kernels/weighted.c.hbs): its geometry, the inner loop
// and decode table kernelPlan.ts chooses, and the scratch layout in the arena. Conv1D, Conv2D and
// Dense (one window of all features) share it; their operator modules give the geometry: contiguous
// windows, a grid (2D or dilated windows) or pointwise windows (docs/architecture.md, "The weighted
// kernel").
import { decodeWeights } from '../qmodel/coding/index.js';
import type { CodedWeights } from '../qmodel/model.js';
import {
  chooseLut,
  chooseSparse,
  gridCopy,
  inputCopy,
  sparseBlocking,
  type Geometry,
  type Grid,
  type GridCopy,
  type InputCopy,
} from './kernelPlan.js';
import { alignUp } from './planner.js';
import type { KernelChoice, UsedFunction, WeightsView } from './viewTypes.js';

/** Static facts of a weighted kernel: geometry, inner-loop choice, scratch layout (bytes). */
export interface KernelFacts {
  geometry: Geometry;
  copy: InputCopy;
  /** The copy of a grid's input (2D or dilated windows), else null. */
  gcopy: GridCopy | null;
  sparse: boolean;
  /** Pointwise windows (see MacView.pointwise): biases before and shifts after the weight block. */
  pointwise: boolean;
  lut: { kb: number; checked: boolean } | null;
  /** Pairs of the weight block (four words each); the int8 requantization's words follow it. */
  wbPairs: number;
  /** Scratch: int16 input copy at 0, then the weight block / non-zero list, then the decode table. */
  wbAt: number;
  lutAt: number;
  bytes: number;
}

/** Words after a weight block of a TFLite int8 layer: four channels' multipliers, offsets, shifts. */
export const REQ8_WORDS = 12;

/** `int8`: a layer of scheme 'tflite-int8' (room for its requantization words after the weight block). */
export function kernelFacts(g: Geometry, cw: CodedWeights, w: WeightsView, int8 = false): KernelFacts {
  const copy = inputCopy(g);
  const gcopy = g.grid ? gridCopy(g.grid, g.C) : null;
  const values = w.packed ? new Int8Array(0) : decodeWeights(cw).values;
  const sparse = w.rle && chooseSparse(g, values, w.rows, w.rowLength);
  const lut = w.table ? chooseLut(cw, values) : null;
  const wbAt = alignUp(2 * (gcopy ? gcopy.count : copy.count));
  // Dense: four rows of pairs, one word each (a grid's rows spaced to whole pairs per segment);
  // sparse: one row's non-zeros plus a padding word.
  const pairs = gcopy
    ? Math.max(Math.ceil(w.rowLength / 2), gcopy.segs * gcopy.P)
    : Math.ceil(w.rowLength / 2);
  const pointwise = !sparse && isPointwise(g, w.rowLength);
  // Pointwise: four biases before the block, four shifts (pow2) or the int8 words after it.
  const after = int8 ? 4 * REQ8_WORDS : pointwise ? 16 : 0;
  // Rows read where they are (rowsDirect) need no weight block: int8 layers reserve none (pow2 ones
  // still do, as their memory plans always have).
  const noBlock = int8 && rowsDirectOf(g, copy, sparse, w);
  const wbBytes = noBlock ? 0 : sparse ? 4 * (w.rowLength + 1) : 16 * pairs + (pointwise ? 16 : 0) + after;
  const lutAt = wbAt + wbBytes;
  const bytes = lutAt + (lut ? 4 * 2 ** lut.kb : 0);
  return { geometry: g, copy, gcopy, sparse, pointwise, lut, wbPairs: pairs, wbAt, lutAt, bytes };
}

/** Kernel 1, stride 1, channels a multiple of 4, several windows: each window starts where the last ends. */
function isPointwise(g: Geometry, n: number): boolean {
  return !g.grid && g.k === 1 && g.stride === 1 && g.C % 4 === 0 && g.L > 1 && n === g.C;
}

/** The inner loop of a weighted kernel: numbers the template turns into literals. */
export interface MacView {
  /** Dense: four filters decoded into pair-interleaved words, SMLAD. Else a sparse non-zero list. */
  dense: boolean;
  /** Arena positions of the int16 input copy (int16 index) and the weight block (word index). */
  x16At: number;
  wbAt: number;
  /** Values copied, zeros before and after, int16 values between windows. */
  xCount: number;
  zl: number;
  zr: number;
  xStep: number;
  /** Row length, pairs per row, blocks of four output channels, channels in the last block. */
  n: number;
  pairs: number;
  blocks: number;
  lastN: number;
  /** The last block has fewer than four channels. */
  partial: boolean;
  /** Iterations of the four-pair loop, and the pairs after it (one entry each). */
  groups4: number;
  remPairs: number[];
  /** Every window starts on a 4-byte boundary (even step): LDRD loads two pairs. */
  aligned: boolean;
  /**
   * Pointwise (kernel 1, stride 1, channels a multiple of 4, several windows): window t + 1 starts
   * where window t ends, so the input pointer runs on; one assembly block per window loads the four
   * biases (LDM) from the words before the weight block, runs eight pairs per loop iteration, then
   * two at a time (`rest2`), and loads the four shifts (LDM) from the words after it. Pointwise
   * layers are the bulk of depthwise-separable nets.
   */
  pointwise: boolean;
  groups8: number;
  rest2: number[];
  /** Word index (from the weight block) of the four shifts after it. */
  pwShiftAt: number;
  /**
   * TFLite int8 with the Cortex-M4 form of the requantization (tflite.ts fastRequant) in a dense
   * loop: after each window's MACs, TF_REQ8_4 (or the pointwise block) requantizes the four sums in
   * registers from REQ8_WORDS words at word `paramAt` of the weight block, filled once per block.
   */
  req8: boolean;
  paramAt: number;
  /** Grid windows (2D or dilated): segments with the weight pointer running on; else null. */
  grid: GridView | null;
  /**
   * One window over the whole unpadded input (a Dense layer) with whole-byte weights (8-bit
   * packed): on the Cortex-M4 the rows are read where they are, four at a time, SXTB16 splitting a
   * word of four weights into its even and odd pairs against an input copy in that same order.
   * Nothing is decoded: each weight is used once, so decoding it into operand words would cost
   * more than the multiply (3 instructions per MAC more, measured on MLPerf Tiny's AD).
   */
  rowsDirect: boolean;
  /** With rowsDirect: values in whole groups of four, and the values after them. */
  n4: number;
  tail: number[];
  /**
   * With rowsDirect on the Cortex-M4: the loop over groups of four is one assembly block per four
   * rows (rows 1, 2, 3 addressed from row 0 by LDR immediates, so 3 * n <= 4095): its iterations,
   * and per row (1, 2, 3, then 0 with the post-increment) its byte offset.
   */
  rowsAsm: boolean;
  rowsIters: number;
  /** Steps per iteration (two when the groups are even in number). */
  rowsUnroll: number[];
  rowSteps: { k: number; off: number }[];
}

/**
 * A grid kernel's numbers (kernelPlan.ts gridCopy). Output t = oy * OW + ox reads segment r at
 * x16 + base(oy, ox) + r * segStep, base = ((oy * sh * dw + ox * sw % dw) * Wq + ox * sw / dw) * C.
 */
export interface GridView extends Grid, GridCopy {
  C: number;
  /** Odd segments in a window of several: the decoded rows are spaced to whole pairs per segment. */
  respace: boolean;
  /** The last segment index, 2P and 4P (numbers the template's loops take as literals). */
  lastSeg: number;
  P2: number;
  P4: number;
  /** sh * dw: copy rows per output row, in phase rows; Wq * C: values per phase row. */
  shdw: number;
  phasePitch: number;
  /** Each input row is one contiguous run of the copy (dw = 1): copied by rows. */
  rowCopy: boolean;
  /** Values per input row, and where input row 0 column 0 lands in the copy. */
  rowValues: number;
  at0: number;
  /** Four-pair loop iterations per segment and the pairs after them. */
  groups4: number;
  remPairs: number[];
  /**
   * Short windows of several segments (at most UNROLL_PAIRS pairs): one assembly block per window,
   * every pair and the step to the next segment written out (per-segment loops would cost about as
   * much as their SMLADs). At most about 700 bytes of code per layer.
   */
  unrolled: boolean;
  /** Per segment: its pair indices, and the byte step (ADD, or SUB when negative) to the next. */
  segList: { pairs: number[]; more: boolean; add: boolean; gapBytes: number }[];
}

/** Largest window (pairs) the grid kernel writes out as one assembly block. */
export const UNROLL_PAIRS = 32;
/** Largest ADD/SUB immediate (Thumb-2 ADDW/SUBW). */
const ADDW_MAX = 4095;

function gridView(g: Grid, C: number, c: GridCopy): GridView {
  const gap = 2 * c.segStep - 4 * c.P;
  // One segment (a dilated Conv1D) has no per-segment cost to save: the loop keeps the code small.
  const unrolled = c.segs > 1 && c.segs * c.P <= UNROLL_PAIRS && Math.abs(gap) <= ADDW_MAX;
  return {
    unrolled,
    segList: Array.from({ length: c.segs }, (_, r) => ({
      pairs: Array.from({ length: c.P }, (_, i) => i),
      more: r < c.segs - 1,
      add: gap >= 0,
      gapBytes: Math.abs(gap),
    })),
    ...g,
    C,
    ...c,
    respace: c.S % 2 === 1 && c.segs > 1,
    lastSeg: c.segs - 1,
    P2: 2 * c.P,
    P4: 4 * c.P,
    shdw: g.sh * g.dw,
    phasePitch: c.Wq * C,
    rowCopy: g.dw === 1,
    rowValues: g.W * C,
    at0: (g.padTop * g.dw + (g.padLeft % g.dw)) * c.Wq * C + Math.floor(g.padLeft / g.dw) * C,
    groups4: Math.floor(c.P / 4),
    remPairs: Array.from({ length: c.P % 4 }, (_, i) => i),
  };
}

export interface SparseView {
  /** Time steps per pass over the list, passes, start of the last pass, bytes between windows. */
  tb: number;
  blocks: number;
  lastStart: number;
  stepBytes: number;
  /** Byte offset of window j (j = 0..tb-1), and the indices 0..tb-1. */
  offsets: number[];
  accs: number[];
  /** The last accumulator: registers r0..r{lastAcc}; the other operands are pinned to r6, r8-r12, lr. */
  lastAcc: number;
}

export interface DecodeView {
  direct8: boolean;
  packed: boolean;
  huffman: boolean;
  rle: boolean;
  /** Reads a bitstream (and returns its status). */
  stream: boolean;
  /** Builds a RAM decode table of kb bits at word `lutAt` of the arena. */
  lut: boolean;
  lutAt: number;
  kb: number;
  /** Some codes need the slow path: the decoder tests every token. */
  checked: boolean;
}

/** One window reading the whole input unpadded, with whole-byte weights (MacView.rowsDirect). */
function rowsDirect(f: KernelFacts, w: WeightsView): boolean {
  return rowsDirectOf(f.geometry, f.copy, f.sparse, w);
}

function rowsDirectOf(g: Geometry, copy: InputCopy, sparse: boolean, w: WeightsView): boolean {
  const inside = copy.zl === 0 && g.k * g.C === w.rowLength && w.rowLength <= g.T * g.C;
  return w.direct && !sparse && !g.grid && g.L === 1 && inside;
}

/** The inner-loop, sparse and decoder parts of a weighted layer's view; `at` = its scratch offset. */
export function kernelViews(
  f: KernelFacts,
  w: WeightsView,
  at: number,
  int8Fast = false,
): { mac: MacView; sparse: SparseView | null; decode: DecodeView } {
  const g = f.geometry;
  const n = w.rowLength;
  const pairs = Math.ceil(n / 2);
  const blocks = Math.ceil(g.cout / 4);
  const mac: MacView = {
    dense: !f.sparse,
    x16At: at / 2,
    wbAt: (at + f.wbAt) / 4,
    xCount: g.T * g.C,
    zl: f.copy.zl,
    zr: f.copy.zr,
    xStep: f.copy.step,
    n,
    pairs,
    blocks,
    lastN: g.cout - 4 * (blocks - 1),
    partial: g.cout % 4 !== 0,
    groups4: Math.floor(pairs / 4),
    aligned: f.gcopy ? g.C % 2 === 0 : f.copy.step % 2 === 0,
    remPairs: Array.from({ length: pairs % 4 }, (_, i) => i),
    grid: g.grid && f.gcopy ? gridView(g.grid, g.C, f.gcopy) : null,
    pointwise: f.pointwise,
    groups8: Math.floor(pairs / 8),
    pwShiftAt: 4 * pairs,
    rest2: Array.from({ length: (pairs % 8) / 2 }, (_, i) => i),
    rowsDirect: rowsDirect(f, w),
    req8: int8Fast && !f.sparse && !rowsDirect(f, w),
    paramAt: 4 * f.wbPairs,
    n4: n - (n % 4),
    rowsAsm: rowsDirect(f, w) && n >= 4 && 3 * n <= 4095,
    rowsIters: Math.floor(n / 4) / (Math.floor(n / 4) % 2 === 0 ? 2 : 1),
    rowsUnroll: Array.from({ length: Math.floor(n / 4) % 2 === 0 ? 2 : 1 }, (_, i) => i),
    rowSteps: [1, 2, 3, 0].map((k) => ({ k, off: k * n })),
    tail: Array.from({ length: n % 4 }, (_, i) => n - (n % 4) + i),
  };
  let sparse: SparseView | null = null;
  if (f.sparse) {
    const b = sparseBlocking(g);
    sparse = {
      ...b,
      offsets: Array.from({ length: b.tb }, (_, j) => j * b.stepBytes),
      accs: Array.from({ length: b.tb }, (_, j) => j),
      lastAcc: b.tb - 1,
    };
  }
  const decode: DecodeView = {
    direct8: w.direct,
    packed: w.packed && !w.direct,
    huffman: w.huffman,
    rle: w.rle && !f.sparse,
    stream: !w.direct,
    lut: f.lut !== null,
    lutAt: (at + f.lutAt) / 4,
    kb: f.lut?.kb ?? 0,
    checked: f.lut?.checked ?? false,
  };
  return { mac, sparse, decode };
}

/** The decoder and MAC functions one weighted kernel calls (model.c emits only those in use). */
export function usedBy(mac: MacView, sparse: SparseView | null, d: DecodeView): UsedFunction[] {
  // Rows read where they are need no input copy, operand block or row decoder.
  if (mac.rowsDirect) return [];
  const uses: UsedFunction[] = ['mac', mac.dense ? 'macDense' : 'macSparse'];
  if (d.stream) uses.push('bits');
  if (d.direct8) uses.push('packed', 'expand8');
  if (d.packed) uses.push('packed', 'packedRows');
  if (d.lut) uses.push('huffToken', 'huffLut');
  if (d.huffman) uses.push('huffRows', d.checked ? 'huffRowsChecked' : 'huffRowsFast');
  if (d.rle) uses.push('rle', 'rleRows');
  if (sparse) uses.push('rle', 'rleList', d.checked ? 'rleListChecked' : 'rleListFast');
  return uses;
}

/** The kernel chosen, for the codegen report. */
export function kernelChoice(mac: MacView, sparse: SparseView | null, d: DecodeView): KernelChoice {
  return {
    inner: sparse ? 'smlatb-list' : mac.rowsDirect ? 'smlad-rows' : 'smlad',
    windows: sparse?.tb ?? 1,
    lutBits: d.lut ? d.kb : null,
    slowPath: d.checked,
  };
}

/** Outputs of one output row a small-RAM kernel accumulates per pass over a row (int32 each, on the stack). */
export const SMALL_TB = 8;

/**
 * The small-RAM kernel of a weighted layer (templates/kernels/small.c.hbs): every geometry as a grid
 * (a Conv1D is one row, a Dense one window of one position), read straight from the int8 input.
 */
export interface SmallView extends Grid {
  title: string;
  C: number;
  /**
   * Channels a row steps through per tap: C (a convolution's row is (ky, kx, c)), or 1 for a
   * depthwise layer, whose row o reads input channel o / mult alone (mult 0: not depthwise).
   */
  rowC: number;
  mult: number;
  /** Row length, values per input row, outputs per pass, passes per row. */
  n: number;
  rowValues: number;
  tb: number;
  passes: number;
  /** Packed coding: 32 - bits (the field's arithmetic shift out of a window). */
  packedShift: number;
  /** Huffman codings: tokens from the canonical tables. */
  tokens: boolean;
  /** A full pass inside the input: input column of its last window (from the first), and per window its byte offset. */
  lastOffset: number;
  unroll: { u: number; at: number }[];
}

export function smallView(g: Geometry, w: WeightsView, title: string): SmallView {
  const grid: Grid = g.grid ?? {
    H: 1,
    W: g.T,
    kh: 1,
    kw: g.k,
    sh: 1,
    sw: g.stride,
    dh: 1,
    dw: 1,
    padTop: 0,
    padLeft: g.padLeft,
    OH: 1,
    OW: g.L,
  };
  return smallGridView(grid, g.C, w, title);
}

/**
 * The small-RAM kernel on a grid of C channels; `mult`: a depthwise layer's depth multiplier (row o
 * reads channel o / mult alone), 0 for a convolution or Dense (rows of every channel).
 */
export function smallGridView(grid: Grid, C: number, w: WeightsView, title: string, mult = 0): SmallView {
  const tb = Math.min(SMALL_TB, grid.OW);
  return {
    title,
    ...grid,
    C,
    rowC: mult > 0 ? 1 : C,
    mult,
    n: w.rowLength,
    rowValues: grid.W * C,
    tb,
    passes: grid.OH * Math.ceil(grid.OW / tb),
    packedShift: 32 - w.bits,
    tokens: w.table !== null,
    lastOffset: (tb - 1) * grid.sw,
    unroll: Array.from({ length: tb }, (_, u) => ({ u, at: u * grid.sw * C })),
  };
}

/** The decoder functions a small-RAM kernel calls. */
export function smallUses(w: WeightsView): UsedFunction[] {
  if (w.direct) return [];
  return w.table ? ['bits', 'huffToken', 'smallToken'] : ['bits'];
}
