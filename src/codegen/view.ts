// The typed view of a compressed model that the C templates render: every shape, stride, padding,
// shift and buffer offset is a plain integer here so that it lands in the C as a literal (gcc then
// unrolls and folds). It also checks everything the C relies on to be free of undefined behaviour
// (shift range, accumulator bound, windows that touch the input, decodable weights) and refuses a
// model that breaks it, naming the layer.
import { ACC_LIMIT, MAX_SHIFT, MIN_SHIFT, requantShift } from '../fixedpoint/semantics.js';
import { outLength } from '../graph/ir.js';
import type { CodedWeights, CompressedModel, QConv1D, QDense, QLayer } from '../qmodel/model.js';
import { HUFFMAN_LUT_BITS, wFracOf } from '../qmodel/model.js';
import { buildDecodeTables, codedWeightsProblem, decodeWeights } from '../qmodel/coding/index.js';
import { checkModel } from '../qmodel/check.js';
import { TinyforgeError } from '../util/errors.js';
import { cInt, uniqueIdent } from './cformat.js';
import { alignUp, planMemory, type AliasKind, type MemoryPlan, type PlanStep } from './planner.js';
import {
  chooseLut,
  chooseSparse,
  inputCopy,
  sparseBlocking,
  type Geometry,
  type InputCopy,
} from './kernelPlan.js';

/** Names of the generated files. */
export const FILE_NAMES = { source: 'model.c', header: 'model.h', fixedpoint: 'tf_fixedpoint.h' } as const;

export interface HuffmanView {
  /** C array of the decode tables, layout of src/qmodel/model.ts. */
  array: string;
  K: number;
  L: number;
  symbols: number;
  /** Offsets (in uint16 entries) of the parts of the table array. */
  firstCodeAt: number;
  countAt: number;
  offsetAt: number;
  symbolsAt: number;
  lutEntries: number;
  entries: number;
  /** Exact table bytes, 2 * entries (what the compressor reports as tableBytes). */
  bytes: number;
  /** Declared entries: rounded up to a multiple of 2 (4 bytes), see sectionBytes. */
  declaredEntries: number;
  data: Uint16Array;
}

export interface WeightsView {
  coding: CodedWeights['coding'];
  packed: boolean;
  huffman: boolean;
  rle: boolean;
  bits: number;
  rows: number;
  rowLength: number;
  /** C array holding the bitstream. */
  array: string;
  /** Bytes of the bitstream: the bound the bit reader enforces. */
  bytes: number;
  /**
   * Declared length: a multiple of 4 (at least 4). Every array in the weights and tables sections
   * is 4-aligned with a size that is a multiple of 4, so a section's size is the sum of its arrays
   * in any order the compiler emits them: the plan's byte counts are the linker map's.
   */
  declaredBytes: number;
  bitLength: number;
  /** The bitstream (one zero byte when empty: C has no empty arrays). */
  data: Uint8Array;
  /** 8-bit packed weights that are whole bytes: kernels read them straight from flash. */
  direct: boolean;
  table: HuffmanView | null;
}

/** Requantization of a Conv1D/Dense: bias and shift per output channel. */
export interface RequantView {
  relu: number;
  /** Bias array name, or null when one literal serves (a single channel, or every bias zero). */
  biasArray: string | null;
  /** The bias as a literal when there is no array. */
  biasConst: string;
  bias: Int32Array;
  biasBytes: number;
  /** The shift when it is the same for every output channel, else null (then `shiftArray`). */
  shift: number | null;
  shiftArray: string | null;
  shifts: number[];
  /** Declared length of the shift array (a multiple of 4). */
  shiftDeclared: number;
  shiftBytes: number;
}

interface LayerViewBase {
  index: number;
  /** The layer name (templates print it with cString / cComment). */
  name: string;
  /** C identifier fragment, unique in the model; also the <layer> of section names. */
  ident: string;
  /** The layer kind; templates/kernels/<partial>.c.hbs renders it. */
  partial: string;
  /** Template partial name: 'kernels/<partial>'. */
  kernel: string;
  inT: number;
  inC: number;
  outT: number;
  outC: number;
  inSize: number;
  outSize: number;
  /** C expressions of the input and output buffers (arena offsets are literals). */
  inExpr: string;
  outExpr: string;
  weightBytes: number;
  tableBytes: number;
  scratchBytes: number;
  /** Coded weights and their requantization (Conv1D, Dense), else null. */
  weights: WeightsView | null;
  requant: RequantView | null;
  /** The kernel returns a status (it decodes a bitstream). */
  hasStatus: boolean;
  /** The layer has a kernel function (Flatten has none). */
  hasCode: boolean;
}

/** The inner loop of a Conv1D/Dense kernel (templates/kernels/weighted.c.hbs). */
export interface MacView {
  /** Dense: four filters decoded into pair-interleaved words, SMLAD. Else a sparse non-zero list. */
  dense: boolean;
  /** int16 copy of the input with its zero padding, and the weight block or non-zero list (C exprs). */
  x16Expr: string;
  wbExpr: string;
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
  /** Requantization macro and the shift of each channel of a block (literal or variable). */
  req: 'TF_REQ' | 'TF_REQ_RELU';
  s0: string;
  s1: string;
  s2: string;
  s3: string;
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
  shift: string;
}

export interface DecodeView {
  direct8: boolean;
  packed: boolean;
  huffman: boolean;
  rle: boolean;
  /** Reads a bitstream (and returns its status). */
  stream: boolean;
  /** Builds a RAM decode table of kb bits at lutExpr. */
  lut: boolean;
  lutExpr: string;
  kb: number;
  /** Some codes need the slow path: the decoder tests every token. */
  checked: boolean;
  /** Row decoder (dense) or list decoder (sparse) to call. */
  rowsFn: string;
  listFn: string;
}

interface WeightedViewBase extends LayerViewBase {
  requant: RequantView;
  weights: WeightsView;
  mac: MacView;
  sparse: SparseView | null;
  decode: DecodeView;
}

export interface ConvView extends WeightedViewBase {
  partial: 'conv1d';
  kernelSize: number;
  stride: number;
  padLeft: number;
}

export interface DenseView extends WeightedViewBase {
  partial: 'dense';
  features: number;
}

export interface PoolView extends LayerViewBase {
  partial: 'maxpool1d' | 'avgpool1d';
  poolSize: number;
  stride: number;
  padLeft: number;
  edges: boolean;
}

export interface GapView extends LayerViewBase {
  partial: 'gap1d';
  /** Four channels at a time in 16-bit lanes: T * 128 must fit int16. */
  simd: boolean;
}

export interface ElementwiseView extends LayerViewBase {
  partial: 'flatten' | 'relu';
  /** ReLU writes over its input (the planner aliased them). */
  inPlace: boolean;
}

export type LayerView = ConvView | DenseView | PoolView | GapView | ElementwiseView;

export interface ModelView {
  version: string;
  sourceName: string;
  fixedpointHeader: string;
  header: string;
  inputT: number;
  inputC: number;
  inputSize: number;
  inputFrac: number;
  numClasses: number;
  classNames: string[];
  mean: number[];
  std: number[];
  arenaBytes: number;
  scratchBytes: number;
  weightBytes: number;
  tableBytes: number;
  /** Model output is the (viewed) input: tf_model_run copies it. */
  copyOutput: boolean;
  layers: LayerView[];
  /** Some layer decodes a bitstream (tf_model_run keeps a status). */
  anyCoded: boolean;
  lutBits: number;
  /** Which decoder and MAC functions the kernels call: only those are emitted. */
  uses: Record<UsedFunction, boolean>;
}

export type UsedFunction =
  | 'mac'
  | 'bits'
  | 'packed'
  | 'expand8'
  | 'packedRows'
  | 'huffToken'
  | 'huffRows'
  | 'huffRowsChecked'
  | 'huffRowsFast'
  | 'rle'
  | 'rleRows'
  | 'rleList'
  | 'rleListChecked'
  | 'rleListFast'
  | 'macDense'
  | 'macSparse';

export interface ViewOptions {
  /** Shown in the generated files' banner (e.g. the .tfm path); no timestamps, output is reproducible. */
  sourceName?: string;
  version?: string;
}

function fail(
  layer: QLayer | null,
  why: string,
  hint = 'recompress the model with `tinyforge compress`',
): never {
  const where = layer ? `layer '${layer.name}' (${layer.kind}): ` : '';
  throw new TinyforgeError(`${where}${why}`, 'input', hint);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === 2 && b.length === 2 && a[0] === b[0] && a[1] === b[1];
}

/** Every window [t*stride - pad, +k) of an output position must touch the input. */
function windowsInfo(layer: QLayer, T: number, k: number, stride: number, pad: number, L: number) {
  let edges = false;
  for (let t = 0; t < L; t++) {
    const start = t * stride - pad;
    if (start < 0 || start + k > T) edges = true;
    if (start + k <= 0 || start >= T) fail(layer, `output position ${t} has a window outside the input`);
  }
  return { edges };
}

function weightsView(layer: QConv1D | QDense, ident: string, rows: number, rowLength: number): WeightsView {
  const cw = layer.weights;
  const problem = codedWeightsProblem(cw);
  if (problem) fail(layer, `its weights cannot be decoded: ${problem}`);
  if (cw.rows !== rows || cw.rowLength !== rowLength) {
    fail(layer, `weights are ${cw.rows} x ${cw.rowLength}, the layer needs ${rows} x ${rowLength}`);
  }
  const bytes = cw.bitstream.length;
  let table: HuffmanView | null = null;
  if (cw.coding !== 'packed') {
    const t = buildDecodeTables(cw.table!);
    const parts = [t.lut, t.firstCode, t.count, t.offset, t.symbols];
    const all = new Uint16Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    const starts: number[] = [];
    for (const p of parts) {
      starts.push(at);
      all.set(p, at);
      at += p.length;
    }
    table = {
      array: `tf_t_${ident}`,
      K: t.K,
      L: t.L,
      symbols: t.symbols.length,
      firstCodeAt: starts[1],
      countAt: starts[2],
      offsetAt: starts[3],
      symbolsAt: starts[4],
      lutEntries: t.lut.length,
      entries: all.length,
      bytes: all.length * 2,
      declaredEntries: alignUp(all.length, 2),
      data: all,
    };
  }
  return {
    coding: cw.coding,
    packed: cw.coding === 'packed',
    huffman: cw.coding === 'huffman',
    rle: cw.coding === 'rle-huffman',
    bits: cw.bits,
    rows,
    rowLength,
    array: `tf_w_${ident}`,
    bytes,
    declaredBytes: Math.max(4, alignUp(bytes)),
    bitLength: cw.bitLength,
    data: bytes > 0 ? cw.bitstream : new Uint8Array(1),
    direct: cw.coding === 'packed' && cw.bits === 8 && bytes >= rows * rowLength,
    table,
  };
}

function requantView(
  layer: QConv1D | QDense,
  ident: string,
  channels: number,
  rowLength: number,
): RequantView {
  if (layer.wFrac.length !== 1 && layer.wFrac.length !== channels) {
    fail(layer, `has ${layer.wFrac.length} weight formats, expected 1 or ${channels}`);
  }
  if (layer.bias.length !== channels) fail(layer, `has ${layer.bias.length} biases, expected ${channels}`);
  const shifts: number[] = [];
  const maxW = 128 * 2 ** (layer.weights.bits - 1);
  for (let o = 0; o < channels; o++) {
    const s = requantShift(layer.inFrac, wFracOf(layer, o), layer.outFrac);
    if (!Number.isInteger(s) || s < MIN_SHIFT || s > MAX_SHIFT) {
      fail(
        layer,
        `output channel ${o} needs a requantization shift of ${s}, outside ${MIN_SHIFT}..${MAX_SHIFT}`,
      );
    }
    shifts.push(s);
    // What keeps the C free of int32 overflow (docs/fixed-point.md, invariants).
    if (Math.abs(layer.bias[o]) + rowLength * maxW >= ACC_LIMIT) {
      fail(
        layer,
        `output channel ${o} may accumulate beyond 2^30 (bias ${layer.bias[o]}, ${rowLength} products)`,
      );
    }
  }
  const uniform = shifts.every((s) => s === shifts[0]);
  // A one-element array would be folded away by gcc, and the plan's section sizes must be exact.
  const biasArray = channels > 1 && Array.from(layer.bias).some((b) => b !== 0);
  return {
    relu: layer.relu ? 1 : 0,
    biasArray: biasArray ? `tf_b_${ident}` : null,
    biasConst: cInt(channels === 1 ? layer.bias[0] : 0),
    bias: layer.bias,
    biasBytes: biasArray ? 4 * channels : 0,
    shift: uniform ? shifts[0] : null,
    shiftArray: uniform ? null : `tf_s_${ident}`,
    shifts,
    shiftDeclared: alignUp(channels),
    shiftBytes: uniform ? 0 : alignUp(channels),
  };
}

/** Static facts of a Conv1D/Dense kernel: geometry, inner-loop choice, scratch layout (bytes). */
interface KernelFacts {
  geometry: Geometry;
  copy: InputCopy;
  sparse: boolean;
  lut: { kb: number; checked: boolean } | null;
  /** Scratch: int16 input copy at 0, then the weight block / non-zero list, then the decode table. */
  wbAt: number;
  lutAt: number;
  bytes: number;
}

function kernelFacts(layer: QConv1D | QDense, w: WeightsView): KernelFacts {
  const [T, C] = layer.inShape;
  const geometry: Geometry =
    layer.kind === 'conv1d'
      ? {
          T,
          C,
          k: layer.kernelSize,
          stride: layer.stride,
          padLeft: layer.padLeft,
          L: layer.outShape[0],
          cout: layer.filters,
        }
      : { T: 1, C: T * C, k: 1, stride: 1, padLeft: 0, L: 1, cout: layer.units };
  const copy = inputCopy(geometry);
  const needsValues = w.coding !== 'packed';
  const values = needsValues ? decodeWeights(layer.weights).values : new Int8Array(0);
  const sparse = w.rle && chooseSparse(geometry, values, w.rows, w.rowLength);
  const lut = w.table ? chooseLut(layer.weights, values) : null;
  const wbAt = alignUp(2 * copy.count);
  // Dense: four rows of pairs, one word each; sparse: one row's non-zeros plus a padding word.
  const wbBytes = sparse ? 4 * (w.rowLength + 1) : 16 * Math.ceil(w.rowLength / 2);
  const lutAt = wbAt + wbBytes;
  const bytes = lutAt + (lut ? 4 * 2 ** lut.kb : 0);
  return { geometry, copy, sparse, lut, wbAt, lutAt, bytes };
}

/** The inner-loop, sparse and decoder parts of a Conv1D/Dense view. */
function kernelViews(
  f: KernelFacts,
  w: WeightsView,
  requant: RequantView,
  at: number,
): { mac: MacView; sparse: SparseView | null; decode: DecodeView } {
  const g = f.geometry;
  const n = w.rowLength;
  const pairs = Math.ceil(n / 2);
  const blocks = Math.ceil(g.cout / 4);
  const shiftOf = (c: number): string => (requant.shiftArray ? `s${c}` : String(requant.shift));
  const mac: MacView = {
    dense: !f.sparse,
    x16Expr: `(tf_arena.s16 + ${at / 2})`,
    wbExpr: `(tf_arena.u32 + ${(at + f.wbAt) / 4})`,
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
    req: requant.relu ? 'TF_REQ_RELU' : 'TF_REQ',
    s0: shiftOf(0),
    s1: shiftOf(1),
    s2: shiftOf(2),
    s3: shiftOf(3),
  };
  let sparse: SparseView | null = null;
  if (f.sparse) {
    const b = sparseBlocking(g);
    sparse = {
      ...b,
      offsets: Array.from({ length: b.tb }, (_, j) => j * b.stepBytes),
      accs: Array.from({ length: b.tb }, (_, j) => j),
      lastAcc: b.tb - 1,
      shift: requant.shiftArray ? 'so' : String(requant.shift),
    };
  }
  const checked = f.lut?.checked ?? false;
  const decode: DecodeView = {
    direct8: w.direct,
    packed: w.packed && !w.direct,
    huffman: w.huffman,
    rle: w.rle && !f.sparse,
    stream: !w.direct,
    lut: f.lut !== null,
    lutExpr: `(tf_arena.u32 + ${(at + f.lutAt) / 4})`,
    kb: f.lut?.kb ?? 0,
    checked,
    rowsFn: checked ? 'tf_huff_rows' : 'tf_huff_rows_fast',
    listFn: checked ? 'tf_rle_list' : 'tf_rle_list_fast',
  };
  return { mac, sparse, decode };
}

const ALIAS: Record<QLayer['kind'], AliasKind> = {
  conv1d: 'none',
  dense: 'none',
  maxpool1d: 'none',
  avgpool1d: 'none',
  gap1d: 'none',
  flatten: 'view',
  relu: 'inplace',
};

export function buildView(
  model: CompressedModel,
  opts: ViewOptions = {},
): { view: ModelView; plan: MemoryPlan } {
  // The shared validity check (shapes, formats, shifts, accumulator bound, decodable weights);
  // the checks below repeat what the C's freedom from undefined behaviour rests on.
  checkModel(model);
  const [T0, C0] = model.inputShape;
  if (!(Number.isInteger(T0) && T0 >= 1 && Number.isInteger(C0) && C0 >= 1)) {
    fail(null, `input shape [${model.inputShape.join(', ')}] is not a positive [T, C]`);
  }
  // Shared code has these section names; a layer called so gets a suffix.
  const taken = new Set<string>(['tf_run', 'tf_packed', 'tf_huffman', 'tf_rle']);
  const idents = model.layers.map((l) => uniqueIdent(l.name, taken));

  // Shapes chain, and per-layer static facts needed by the planner.
  let prev: [number, number] = [T0, C0];
  const steps: PlanStep[] = [];
  const pre: { weights?: WeightsView; facts?: KernelFacts }[] = [];
  for (const [i, layer] of model.layers.entries()) {
    if (!sameShape(layer.inShape, prev)) {
      fail(layer, `input shape [${layer.inShape}] does not follow the previous output [${prev}]`);
    }
    let scratchBytes = 0;
    const info: (typeof pre)[number] = {};
    const [T, C] = layer.inShape;
    switch (layer.kind) {
      case 'conv1d': {
        const L = outLength(T, layer.kernelSize, layer.stride, layer.padding);
        if (!sameShape(layer.outShape, [L, layer.filters]))
          fail(layer, `output shape [${layer.outShape}] is wrong`);
        info.weights = weightsView(layer, idents[i], layer.filters, layer.kernelSize * C);
        info.facts = kernelFacts(layer, info.weights);
        scratchBytes = info.facts.bytes;
        break;
      }
      case 'dense':
        if (!sameShape(layer.outShape, [1, layer.units]))
          fail(layer, `output shape [${layer.outShape}] is wrong`);
        info.weights = weightsView(layer, idents[i], layer.units, T * C);
        info.facts = kernelFacts(layer, info.weights);
        scratchBytes = info.facts.bytes;
        break;
      case 'maxpool1d':
      case 'avgpool1d': {
        const L = outLength(T, layer.poolSize, layer.stride, layer.padding);
        if (!sameShape(layer.outShape, [L, C])) fail(layer, `output shape [${layer.outShape}] is wrong`);
        break;
      }
      case 'gap1d':
        if (!sameShape(layer.outShape, [1, C])) fail(layer, `output shape [${layer.outShape}] is wrong`);
        break;
      case 'flatten':
        if (!sameShape(layer.outShape, [1, T * C])) fail(layer, `output shape [${layer.outShape}] is wrong`);
        break;
      case 'relu':
        if (!sameShape(layer.outShape, [T, C])) fail(layer, `output shape [${layer.outShape}] is wrong`);
        break;
      default:
        fail(
          layer,
          'this layer kind cannot be compiled',
          'compress the model again: only deployable layers remain',
        );
    }
    pre.push(info);
    steps.push({
      name: layer.name,
      outBytes: layer.outShape[0] * layer.outShape[1],
      alias: ALIAS[layer.kind],
      scratchBytes,
    });
    prev = [layer.outShape[0], layer.outShape[1]];
  }
  const numClasses = prev[0] * prev[1];
  if (model.classNames.length !== numClasses) {
    fail(null, `the model outputs ${numClasses} values but names ${model.classNames.length} classes`);
  }
  const { mean, std } = model.normalization;
  if (mean.length !== C0 || std.length !== C0) {
    fail(null, `normalization has ${mean.length} means and ${std.length} stds for ${C0} input channels`);
  }

  const plan = planMemory(T0 * C0, steps);
  const expr = (t: number): string => {
    const p = plan.tensors[t];
    return p.location === 'arena' ? `(tf_arena.s8 + ${p.offset})` : p.location;
  };

  const layers: LayerView[] = model.layers.map((layer, i) => {
    const ident = idents[i];
    const [inT, inC] = layer.inShape;
    const [outT, outC] = layer.outShape;
    const step = plan.steps[i];
    const base = {
      index: i,
      name: layer.name,
      kernel: `kernels/${layer.kind}`,
      ident,
      inT,
      inC,
      outT,
      outC,
      inSize: inT * inC,
      outSize: outT * outC,
      inExpr: expr(i),
      outExpr: expr(i + 1),
      weightBytes: 0,
      tableBytes: 0,
      scratchBytes: step.scratchBytes,
      weights: null,
      requant: null,
      hasStatus: false,
      hasCode: layer.kind !== 'flatten',
    };
    switch (layer.kind) {
      case 'conv1d': {
        const weights = pre[i].weights!;
        const requant = requantView(layer, ident, layer.filters, weights.rowLength);
        windowsInfo(layer, inT, layer.kernelSize, layer.stride, layer.padLeft, outT);
        return {
          ...base,
          partial: 'conv1d',
          kernelSize: layer.kernelSize,
          stride: layer.stride,
          padLeft: layer.padLeft,
          requant,
          weights,
          ...kernelViews(pre[i].facts!, weights, requant, step.scratchOffset),
          weightBytes: weights.declaredBytes + requant.biasBytes,
          tableBytes: 2 * (weights.table?.declaredEntries ?? 0) + requant.shiftBytes,
          hasStatus: !weights.direct,
        } satisfies ConvView;
      }
      case 'dense': {
        const weights = pre[i].weights!;
        const requant = requantView(layer, ident, layer.units, weights.rowLength);
        return {
          ...base,
          partial: 'dense',
          hasStatus: !weights.direct,
          features: inT * inC,
          requant,
          weights,
          ...kernelViews(pre[i].facts!, weights, requant, step.scratchOffset),
          weightBytes: weights.declaredBytes + requant.biasBytes,
          tableBytes: 2 * (weights.table?.declaredEntries ?? 0) + requant.shiftBytes,
        } satisfies DenseView;
      }
      case 'maxpool1d':
      case 'avgpool1d': {
        const { edges } = windowsInfo(layer, inT, layer.poolSize, layer.stride, layer.padLeft, outT);
        return {
          ...base,
          partial: layer.kind,
          poolSize: layer.poolSize,
          stride: layer.stride,
          padLeft: layer.padLeft,
          edges,
        } satisfies PoolView;
      }
      case 'gap1d':
        return { ...base, partial: 'gap1d', simd: inT <= 256 } satisfies GapView;
      case 'flatten':
      case 'relu':
        return { ...base, partial: layer.kind, inPlace: step.aliased } satisfies ElementwiseView;
    }
  });

  const coded = layers.filter(
    (l): l is ConvView | DenseView => l.partial === 'conv1d' || l.partial === 'dense',
  );
  const view: ModelView = {
    version: opts.version ?? '0',
    sourceName: opts.sourceName ?? 'a compressed model',
    fixedpointHeader: FILE_NAMES.fixedpoint,
    header: FILE_NAMES.header,
    inputT: T0,
    inputC: C0,
    inputSize: T0 * C0,
    inputFrac: model.inputFrac,
    numClasses,
    classNames: model.classNames,
    mean,
    std,
    arenaBytes: plan.arenaBytes,
    scratchBytes: plan.scratchBytes,
    weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
    tableBytes: layers.reduce((s, l) => s + l.tableBytes, 0),
    copyOutput: plan.copyOutput,
    layers,
    anyCoded: coded.some((l) => l.hasStatus),
    lutBits: HUFFMAN_LUT_BITS,
    uses: usedFunctions(coded),
  };
  return { view, plan };
}

function usedFunctions(coded: (ConvView | DenseView)[]): Record<UsedFunction, boolean> {
  const any = (test: (l: ConvView | DenseView) => boolean): boolean => coded.some(test);
  const huffRowsChecked = any((l) => l.decode.huffman && l.decode.checked);
  const huffRowsFast = any((l) => l.decode.huffman && !l.decode.checked);
  const rleRows = any((l) => l.decode.rle);
  const rleListChecked = any((l) => l.sparse !== null && l.decode.checked);
  const rleListFast = any((l) => l.sparse !== null && !l.decode.checked);
  const expand8 = any((l) => l.decode.direct8);
  const packedRows = any((l) => l.decode.packed);
  return {
    mac: coded.length > 0,
    bits: any((l) => l.decode.stream),
    packed: expand8 || packedRows,
    expand8,
    packedRows,
    huffToken: any((l) => l.decode.lut),
    huffRows: huffRowsChecked || huffRowsFast,
    huffRowsChecked,
    huffRowsFast,
    rle: rleRows || rleListChecked || rleListFast,
    rleRows,
    rleList: rleListChecked || rleListFast,
    rleListChecked,
    rleListFast,
    macDense: any((l) => l.mac.dense),
    macSparse: any((l) => !l.mac.dense),
  };
}
