// The host reference interpreter: runs a CompressedModel exactly as the microcontroller does.
// Each layer's weights come out of its own bitstream through the target's decoder (RowDecoder,
// row by row), arithmetic is integer, and every rounding / saturation / average is a call into
// src/fixedpoint/semantics.ts, the one definition the C templates also implement.
import { TinyforgeError } from '../util/errors.js';
import { argmax, requantize, requantShift, roundedAverage } from '../fixedpoint/semantics.js';
import { RowDecoder } from '../qmodel/coding/weights.js';
import { wFracOf, type CompressedModel, type QConv1D, type QDense, type QLayer } from '../qmodel/model.js';
import { checkModel } from '../qmodel/check.js';

/** Supplies weight rows in order o = 0, 1, ... (a streaming decoder or pre-decoded rows). */
type RowSource = (o: number) => Int8Array;

export interface ReferenceOptions {
  /** Also return every layer's int8 output (channels last). */
  keepLayerOutputs?: boolean;
  /** Skip checkModel (only when the caller already ran it on this model). */
  skipCheck?: boolean;
}

export interface ReferenceResult {
  logits: Int8Array;
  classIndex: number;
  layerOutputs?: Int8Array[];
  /** A bitstream was damaged (decoded anyway, see RowDecoder). */
  corrupt: boolean;
}

export interface BatchResult {
  /** n * classes logits, window after window. */
  logits: Int8Array;
  classIndex: Int32Array;
  corrupt: boolean;
}

function conv1d(l: QConv1D, x: Int8Array, row: RowSource): Int8Array {
  const [T, Cin] = l.inShape;
  const [L, F] = l.outShape;
  const k = l.kernelSize;
  const y = new Int8Array(L * F);
  for (let o = 0; o < F; o++) {
    const w = row(o);
    const shift = requantShift(l.inFrac, wFracOf(l, o), l.outFrac);
    const bias = l.bias[o];
    for (let t = 0; t < L; t++) {
      const start = t * l.stride - l.padLeft;
      let acc = bias;
      // Padding positions hold zeros: they add nothing, so the tap range is clipped.
      const j0 = Math.max(0, -start);
      const j1 = Math.min(k, T - start);
      for (let j = j0; j < j1; j++) {
        const xb = (start + j) * Cin;
        const wb = j * Cin;
        for (let c = 0; c < Cin; c++) acc += x[xb + c] * w[wb + c];
      }
      y[t * F + o] = requantize(acc, shift, l.relu);
    }
  }
  return y;
}

function dense(l: QDense, x: Int8Array, row: RowSource): Int8Array {
  const n = x.length;
  const y = new Int8Array(l.units);
  for (let o = 0; o < l.units; o++) {
    const w = row(o);
    let acc = l.bias[o];
    for (let i = 0; i < n; i++) acc += x[i] * w[i];
    y[o] = requantize(acc, requantShift(l.inFrac, wFracOf(l, o), l.outFrac), l.relu);
  }
  return y;
}

function pool(l: QLayer & { kind: 'maxpool1d' | 'avgpool1d' }, x: Int8Array): Int8Array {
  const [T, C] = l.inShape;
  const [L] = l.outShape;
  const y = new Int8Array(L * C);
  for (let t = 0; t < L; t++) {
    const start = t * l.stride - l.padLeft;
    // Only positions that exist take part ('same' padding is ignored / not counted).
    const j0 = Math.max(0, -start);
    const j1 = Math.min(l.poolSize, T - start);
    for (let c = 0; c < C; c++) {
      if (l.kind === 'maxpool1d') {
        let m = -128;
        for (let j = j0; j < j1; j++) m = Math.max(m, x[(start + j) * C + c]);
        y[t * C + c] = m;
      } else {
        let sum = 0;
        for (let j = j0; j < j1; j++) sum += x[(start + j) * C + c];
        y[t * C + c] = roundedAverage(sum, j1 - j0);
      }
    }
  }
  return y;
}

function gap(l: QLayer, x: Int8Array): Int8Array {
  const [T, C] = l.inShape;
  const y = new Int8Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let t = 0; t < T; t++) sum += x[t * C + c];
    y[c] = roundedAverage(sum, T);
  }
  return y;
}

function runLayer(l: QLayer, x: Int8Array, row: RowSource): Int8Array {
  switch (l.kind) {
    case 'conv1d':
      return conv1d(l, x, row);
    case 'dense':
      return dense(l, x, row);
    case 'maxpool1d':
    case 'avgpool1d':
      return pool(l, x);
    case 'gap1d':
      return gap(l, x);
    case 'flatten':
      return x.slice(); // channels last: already in feature order t*C + c
    case 'relu':
      return x.map((v) => (v < 0 ? 0 : v));
  }
}

function checkInput(model: CompressedModel, input: Int8Array, n: number): void {
  const size = model.inputShape[0] * model.inputShape[1];
  if (!(input instanceof Int8Array) || input.length !== size * n) {
    throw new TinyforgeError(
      `reference input has ${input?.length} values, expected ${n} window(s) of ${model.inputShape[0]} x ${model.inputShape[1]} = ${size * n}`,
      'input',
    );
  }
}

/** Runs one window, decoding each layer's bitstream row by row as it goes (as the target does). */
export function runReference(
  model: CompressedModel,
  input: Int8Array,
  opts: ReferenceOptions = {},
): ReferenceResult {
  if (!opts.skipCheck) checkModel(model);
  checkInput(model, input, 1);
  let x = input;
  let corrupt = false;
  const outputs: Int8Array[] = [];
  for (const l of model.layers) {
    let row: RowSource = () => new Int8Array(0);
    let dec: RowDecoder | undefined;
    if (l.kind === 'conv1d' || l.kind === 'dense') {
      const d = (dec = new RowDecoder(l.weights));
      const buf = new Int8Array(l.weights.rowLength);
      row = () => {
        d.nextRow(buf);
        return buf;
      };
    }
    x = runLayer(l, x, row);
    if (dec?.finish()) corrupt = true;
    if (opts.keepLayerOutputs) outputs.push(x);
  }
  return {
    logits: x,
    classIndex: argmax(x),
    ...(opts.keepLayerOutputs ? { layerOutputs: outputs } : {}),
    corrupt,
  };
}

/** A model with every layer's weights decoded once (same decoder), for running many windows. */
export interface PreparedModel {
  model: CompressedModel;
  /** Decoded weights per layer (empty for layers without weights). */
  weights: Int8Array[];
  corrupt: boolean;
}

export function prepareReference(model: CompressedModel, opts: { skipCheck?: boolean } = {}): PreparedModel {
  if (!opts.skipCheck) checkModel(model);
  let corrupt = false;
  const weights = model.layers.map((l) => {
    if (l.kind !== 'conv1d' && l.kind !== 'dense') return new Int8Array(0);
    const { rows, rowLength } = l.weights;
    const dec = new RowDecoder(l.weights);
    const all = new Int8Array(rows * rowLength);
    for (let o = 0; o < rows; o++) dec.nextRow(all.subarray(o * rowLength, (o + 1) * rowLength));
    if (dec.finish()) corrupt = true;
    return all;
  });
  return { model, weights, corrupt };
}

/** Runs one window on a prepared model (same arithmetic as runReference). */
export function runPrepared(
  p: PreparedModel,
  input: Int8Array,
  opts: { keepLayerOutputs?: boolean } = {},
): ReferenceResult {
  checkInput(p.model, input, 1);
  let x = input;
  const outputs: Int8Array[] = [];
  p.model.layers.forEach((l, i) => {
    const all = p.weights[i];
    const len = l.kind === 'conv1d' || l.kind === 'dense' ? l.weights.rowLength : 0;
    x = runLayer(l, x, (o) => all.subarray(o * len, (o + 1) * len));
    if (opts.keepLayerOutputs) outputs.push(x);
  });
  return {
    logits: x,
    classIndex: argmax(x),
    ...(opts.keepLayerOutputs ? { layerOutputs: outputs } : {}),
    corrupt: p.corrupt,
  };
}

/** Runs n windows stored back to back (n * T * C values). */
export function runReferenceBatch(
  model: CompressedModel,
  inputs: Int8Array,
  n: number,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): BatchResult {
  const p = prepareReference(model);
  checkInput(model, inputs, n);
  const size = model.inputShape[0] * model.inputShape[1];
  const classes = model.classNames.length;
  const logits = new Int8Array(n * classes);
  const classIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = runPrepared(p, inputs.subarray(i * size, (i + 1) * size));
    logits.set(r.logits, i * classes);
    classIndex[i] = r.classIndex;
    if (opts.onProgress && (i % 64 === 63 || i === n - 1)) opts.onProgress(i + 1, n);
  }
  return { logits, classIndex, corrupt: p.corrupt };
}
