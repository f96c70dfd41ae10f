// The typed view of a compressed model that the C templates render: every shape, stride, padding,
// shift and buffer offset is a plain integer here so that it lands in the C as a literal (gcc then
// unrolls and folds). It also checks everything the C relies on to be free of undefined behaviour
// (shift range, accumulator bound, windows that touch the input, decodable weights) and refuses a
// model that breaks it, naming the layer.
import { ACC_LIMIT, MAX_SHIFT, MIN_SHIFT, requantShift } from '../fixedpoint/semantics.js';
import { outLength } from '../graph/ir.js';
import type { CodedWeights, CompressedModel, QConv1D, QDense, QLayer } from '../compress/model.js';
import { HUFFMAN_LUT_BITS, wFracOf } from '../compress/model.js';
import { buildDecodeTables, codedWeightsProblem } from '../compress/coding/index.js';
import { checkModel } from '../reference/check.js';
import { TinyforgeError } from '../util/errors.js';
import { cInt, uniqueIdent } from './cformat.js';
import { alignUp, planMemory, type AliasKind, type MemoryPlan, type PlanStep } from './planner.js';

/** Names of the generated files. */
export const FILE_NAMES = { source: 'model.c', header: 'model.h', fixedpoint: 'tf_fixedpoint.h' } as const;

export interface HuffmanView {
  /** C array of the decode tables, layout of src/compress/model.ts. */
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

export interface ConvView extends LayerViewBase {
  partial: 'conv1d';
  kernelSize: number;
  stride: number;
  padLeft: number;
  /** Some window reaches past either end of the input (needs per-window bounds). */
  edges: boolean;
  requant: RequantView;
  weights: WeightsView;
  /** Scratch: decoded filter (packed/huffman) or non-zero list (rle), as C expressions. */
  filterExpr: string;
  nzOffExpr: string;
  nzTapExpr: string;
  nzValExpr: string;
}

export interface DenseView extends LayerViewBase {
  partial: 'dense';
  features: number;
  requant: RequantView;
  weights: WeightsView;
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
  | 'bits'
  | 'packed'
  | 'packedRow'
  | 'packedDot'
  | 'huffToken'
  | 'huffLiteral'
  | 'huffRow'
  | 'huffDot'
  | 'rle'
  | 'rleRow'
  | 'rleDot'
  | 'dotS8'
  | 'dotSparse';

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

/** Scratch bytes of a Conv1D: the decoded filter, or the non-zero list (offsets, tap starts, values). */
function convScratch(layer: QConv1D, w: WeightsView): { bytes: number; tapAt: number; valAt: number } {
  const n = w.rowLength;
  if (w.direct) return { bytes: 0, tapAt: 0, valAt: 0 };
  if (!w.rle) return { bytes: n, tapAt: 0, valAt: 0 };
  // Non-zero positions are uint16 (off[n], tap[k + 1]), values int8 (val[n]).
  if (n > 0xffff) fail(layer, `a filter of ${n} weights is too long for rle-huffman (at most 65535)`);
  const tapAt = alignUp(2 * n);
  const valAt = tapAt + alignUp(2 * (layer.kernelSize + 1));
  return { bytes: valAt + n, tapAt, valAt };
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
  const pre: { weights?: WeightsView; scratch?: ReturnType<typeof convScratch> }[] = [];
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
        info.scratch = convScratch(layer, info.weights);
        scratchBytes = info.scratch.bytes;
        break;
      }
      case 'dense':
        if (!sameShape(layer.outShape, [1, layer.units]))
          fail(layer, `output shape [${layer.outShape}] is wrong`);
        info.weights = weightsView(layer, idents[i], layer.units, T * C);
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
        const sc = pre[i].scratch!;
        const requant = requantView(layer, ident, layer.filters, weights.rowLength);
        const { edges } = windowsInfo(layer, inT, layer.kernelSize, layer.stride, layer.padLeft, outT);
        const at = step.scratchOffset;
        return {
          ...base,
          partial: 'conv1d',
          kernelSize: layer.kernelSize,
          stride: layer.stride,
          padLeft: layer.padLeft,
          edges,
          requant,
          weights,
          weightBytes: weights.declaredBytes + requant.biasBytes,
          tableBytes: 2 * (weights.table?.declaredEntries ?? 0) + requant.shiftBytes,
          hasStatus: !weights.direct,
          filterExpr: weights.direct ? '' : `(tf_arena.s8 + ${at})`,
          nzOffExpr: `(tf_arena.u16 + ${at / 2})`,
          nzTapExpr: `(tf_arena.u16 + ${(at + sc.tapAt) / 2})`,
          nzValExpr: `(tf_arena.s8 + ${at + sc.valAt})`,
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
        return { ...base, partial: 'gap1d' } satisfies GapView;
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
  const has = (kind: 'conv1d' | 'dense', test: (w: WeightsView) => boolean): boolean =>
    coded.some((l) => l.partial === kind && test(l.weights));
  const packedRow = has('conv1d', (w) => w.packed && !w.direct);
  const packedDot = has('dense', (w) => w.packed && !w.direct);
  const huffRow = has('conv1d', (w) => w.huffman);
  const huffDot = has('dense', (w) => w.huffman);
  const rleRow = has('conv1d', (w) => w.rle);
  const rleDot = has('dense', (w) => w.rle);
  return {
    bits: coded.some((l) => !l.weights.direct),
    packed: packedRow || packedDot,
    packedRow,
    packedDot,
    huffToken: huffRow || huffDot || rleRow || rleDot,
    huffLiteral: huffRow || huffDot,
    huffRow,
    huffDot,
    rle: rleRow || rleDot,
    rleRow,
    rleDot,
    dotS8: has('conv1d', (w) => !w.rle) || has('dense', (w) => w.direct),
    dotSparse: rleRow,
  };
}
