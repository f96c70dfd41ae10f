// The flash data of a weighted layer as the templates embed it (templates/data/layer.c.hbs): the
// bitstream, the Huffman decode tables, the int32 biases and the per-channel shifts, each array
// declared 4-aligned with a multiple-of-4 size so that section sizes are the linker map's.
import { requantShift } from '../fixedpoint/semantics.js';
import { flashTableParts } from '../qmodel/coding/index.js';
import type { CodedWeights } from '../qmodel/model.js';
import { alignUp } from './planner.js';
import type { HuffmanView, RequantView, WeightsView } from './viewTypes.js';

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
