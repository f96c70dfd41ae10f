// The flash data of a weighted layer as the templates embed it (templates/data/layer.c.hbs): the
// bitstream, the Huffman decode tables, the int32 biases and the per-channel shifts, each array
// declared 4-aligned with a multiple-of-4 size so that section sizes are the linker map's.
import { requantShift } from '../fixedpoint/semantics.js';
import { flashTableParts } from '../qmodel/coding/index.js';
import type { CodedWeights } from '../qmodel/model.js';
import { alignUp } from './planner.js';
import type { HuffmanView, RequantView, WeightsView } from './viewTypes.js';
import { channelMultipliers, rangeOf, type Int8WeightedQ, type WeightedFlavour } from '../ops/int8.js';
import { fastRequant } from '../fixedpoint/tflite.js';

function huffmanView(cw: CodedWeights): HuffmanView {
  const t = flashTableParts(cw.table!);
  const parts = [t.firstCode, t.count, t.offset, t.symbols];
  const data = new Uint16Array(parts.reduce((s, p) => s + p.length, 0));
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) {
    starts.push(at);
    data.set(p, at);
    at += p.length;
  }
  return {
    L: t.L,
    symbols: t.symbols.length,
    firstCodeAt: starts[0],
    countAt: starts[1],
    offsetAt: starts[2],
    symbolsAt: starts[3],
    entries: data.length,
    bytes: data.length * 2,
    declaredEntries: alignUp(data.length, 2),
    data,
  };
}

/** The coded weights of a layer (validated beforehand by the model validator). */
export function weightsView(cw: CodedWeights): WeightsView {
  const bytes = cw.bitstream.length;
  return {
    coding: cw.coding,
    packed: cw.coding === 'packed',
    huffman: cw.coding === 'huffman',
    rle: cw.coding === 'rle-huffman',
    bits: cw.bits,
    rows: cw.rows,
    rowLength: cw.rowLength,
    bytes,
    declaredBytes: Math.max(4, alignUp(bytes)),
    bitLength: cw.bitLength,
    data: bytes > 0 ? cw.bitstream : new Uint8Array(1),
    direct: cw.coding === 'packed' && cw.bits === 8 && bytes >= cw.rows * cw.rowLength,
    table: cw.coding === 'packed' ? null : huffmanView(cw),
  };
}

/** Bias and shift of each output channel (shift range and accumulator bound were validated). */
export function requantView(
  q: { relu: boolean; inFrac: number; outFrac: number; bias: Int32Array },
  wFrac: (o: number) => number,
): RequantView {
  const channels = q.bias.length;
  const shifts = Array.from({ length: channels }, (_, o) => requantShift(q.inFrac, wFrac(o), q.outFrac));
  const uniform = shifts.every((s) => s === shifts[0]);
  // A one-element array would be folded away by gcc, and the plan's section sizes must be exact.
  const biasArray = channels > 1 && Array.from(q.bias).some((b) => b !== 0);
  return {
    int8: null,
    relu: q.relu,
    biasArray,
    biasConst: channels === 1 ? q.bias[0] : 0,
    bias: q.bias,
    biasBytes: biasArray ? 4 * channels : 0,
    shift: uniform ? shifts[0] : null,
    shiftArray: !uniform,
    shifts,
    shiftDeclared: alignUp(channels),
    shiftBytes: uniform ? 0 : alignUp(channels),
  };
}

/**
 * Bias, multiplier and shift of each output channel of a layer under TFLite's int8 scheme, and the
 * Cortex-M4 form of its requantization where it applies to every channel (tflite.ts fastRequant;
 * the accumulator bound is |bias| + row length * 255 * 127, |x - zero point| <= 255 and |w| <= 127):
 * then the right shift and the offset (rounding and output zero point) of each channel.
 */
export function int8RequantView(q: Int8WeightedQ, outs: number, flavour: WeightedFlavour): RequantView {
  const mult = channelMultipliers(q, outs, flavour);
  const uniform = mult.every((m) => m.multiplier === mult[0].multiplier && m.shift === mult[0].shift);
  const range = rangeOf(q);
  const biasArray = outs > 1 && Array.from(q.bias).some((b) => b !== 0);
  const shiftDeclared = alignUp(outs);
  const maxAbsAcc = Math.max(...Array.from(q.bias, Math.abs)) + q.weights.rowLength * 255 * 127;
  const forms = mult.map((m) => fastRequant(m, flavour.rounding, maxAbsAcc, q.output.zeroPoint));
  const fast = forms.every((f) => f !== null);
  const rights = Uint8Array.from(forms, (f) => f?.right ?? 0);
  const offsets = Int32Array.from(forms, (f) => f?.offset ?? 0);
  return {
    int8: {
      single: flavour.rounding === 'single',
      inOffset: -q.input.zeroPoint,
      outZeroPoint: q.output.zeroPoint,
      min: range.min,
      max: range.max,
      uniform,
      multiplier: mult[0].multiplier,
      shift: mult[0].shift,
      multipliers: Int32Array.from(mult, (m) => m.multiplier),
      shifts: Int8Array.from(mult, (m) => m.shift),
      shiftDeclared,
      fast,
      right: rights[0],
      offset: offsets[0],
      rights,
      offsets,
      tableBytes: uniform ? 0 : 4 * outs + shiftDeclared + (fast ? 4 * outs : 0),
    },
    relu: false,
    biasArray,
    biasConst: outs === 1 ? q.bias[0] : 0,
    bias: q.bias,
    biasBytes: biasArray ? 4 * outs : 0,
    shift: 0,
    shiftArray: false,
    shifts: [],
    shiftDeclared: 0,
    shiftBytes: 0,
  };
}
