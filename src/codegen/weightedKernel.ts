// The kernel of a weighted layer (templates/kernels/weighted.c.hbs): its geometry, the inner loop
// and decode table kernelPlan.ts chooses, and the scratch layout in the arena. Conv1D and Dense
// (one window of all features) share it; their operator modules give the geometry.
import { decodeWeights } from '../qmodel/coding/index.js';
import type { CodedWeights } from '../qmodel/model.js';
import {
  chooseLut,
  chooseSparse,
  inputCopy,
  sparseBlocking,
  type Geometry,
  type InputCopy,
} from './kernelPlan.js';
import { alignUp } from './planner.js';
import type { KernelChoice, UsedFunction, WeightsView } from './viewTypes.js';

/** Static facts of a weighted kernel: geometry, inner-loop choice, scratch layout (bytes). */
export interface KernelFacts {
  geometry: Geometry;
  copy: InputCopy;
  sparse: boolean;
  lut: { kb: number; checked: boolean } | null;
  /** Scratch: int16 input copy at 0, then the weight block / non-zero list, then the decode table. */
  wbAt: number;
  lutAt: number;
  bytes: number;
}

export function kernelFacts(g: Geometry, cw: CodedWeights, w: WeightsView): KernelFacts {
  const copy = inputCopy(g);
  const values = w.packed ? new Int8Array(0) : decodeWeights(cw).values;
  const sparse = w.rle && chooseSparse(g, values, w.rows, w.rowLength);
  const lut = w.table ? chooseLut(cw, values) : null;
  const wbAt = alignUp(2 * copy.count);
  // Dense: four rows of pairs, one word each; sparse: one row's non-zeros plus a padding word.
  const wbBytes = sparse ? 4 * (w.rowLength + 1) : 16 * Math.ceil(w.rowLength / 2);
  const lutAt = wbAt + wbBytes;
  const bytes = lutAt + (lut ? 4 * 2 ** lut.kb : 0);
  return { geometry: g, copy, sparse, lut, wbAt, lutAt, bytes };
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

/** The inner-loop, sparse and decoder parts of a weighted layer's view; `at` = its scratch offset. */
export function kernelViews(
  f: KernelFacts,
  w: WeightsView,
  at: number,
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
    aligned: f.copy.step % 2 === 0,
    remPairs: Array.from({ length: pairs % 4 }, (_, i) => i),
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
  const uses: UsedFunction[] = ['mac', mac.dense ? 'macDense' : 'macSparse'];
  if (d.stream) uses.push('bits');
  if (d.direct8) uses.push('packed', 'expand8');
  if (d.packed) uses.push('packed', 'packedRows');
  if (d.lut) uses.push('huffToken');
  if (d.huffman) uses.push('huffRows', d.checked ? 'huffRowsChecked' : 'huffRowsFast');
  if (d.rle) uses.push('rle', 'rleRows');
  if (sparse) uses.push('rle', 'rleList', d.checked ? 'rleListChecked' : 'rleListFast');
  return uses;
}

/** The kernel chosen, for the codegen report. */
export function kernelChoice(sparse: SparseView | null, d: DecodeView): KernelChoice {
  return {
    inner: sparse ? 'smlatb-list' : 'smlad',
    windows: sparse?.tb ?? 1,
    lutBits: d.lut ? d.kb : null,
    slowPath: d.checked,
  };
}
