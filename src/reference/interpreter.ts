// The host reference interpreter: runs a CompressedModel exactly as the microcontroller does.
// Each layer's weights come out of its own bitstream through the target's decoder (RowDecoder,
// row by row), arithmetic is integer, and every rounding / saturation / average is a call into
// src/fixedpoint/semantics.ts, the one definition the C templates also implement.
import { TinyforgeError } from '../util/errors.js';
import { argmax } from '../fixedpoint/semantics.js';
import { RowDecoder } from '../qmodel/coding/weights.js';
import { schemeOf, type CompressedModel } from '../qmodel/model.js';
import { checkModel, irGraph } from '../qmodel/check.js';
import { inferShapes, type NodeInfo } from '../graph/ir.js';
import { quantizedOps } from '../ops/registry.js';
import type { RowSource } from '../ops/types.js';

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

/** Runs every layer on its input tensors (graph order); returns each layer's output. */
function runLayers(
  model: CompressedModel,
  infos: NodeInfo[],
  input: Int8Array,
  rowsOf: (i: number) => RowSource,
): Int8Array[] {
  const outputs: Int8Array[] = [];
  model.layers.forEach((l, i) => {
    const ins = infos[i].inputs.map((p) => (p < 0 ? input : outputs[p]));
    outputs.push(quantizedOps(l.kind, schemeOf(model)).reference(l, ins, rowsOf(i)));
  });
  return outputs;
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
  const decoders = model.layers.map((l) => {
    const coded = quantizedOps(l.kind, schemeOf(model)).coded?.(l);
    return coded ? new RowDecoder(coded.weights) : undefined;
  });
  const outputs = runLayers(model, inferShapes(irGraph(model)), input, (i) => {
    const d = decoders[i];
    if (!d) return () => new Int8Array(0);
    const buf = new Int8Array(
      quantizedOps(model.layers[i].kind, schemeOf(model)).coded!(model.layers[i]).weights.rowLength,
    );
    return () => {
      d.nextRow(buf);
      return buf;
    };
  });
  const corrupt = decoders.some((d) => d?.finish());
  const x = outputs[outputs.length - 1];
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
  /** Decoded weights per layer (empty for layers without weights), and their row lengths. */
  weights: Int8Array[];
  rowLengths: number[];
  /** The model's graph analysis (inputs of each layer). */
  infos: NodeInfo[];
  corrupt: boolean;
}

export function prepareReference(model: CompressedModel, opts: { skipCheck?: boolean } = {}): PreparedModel {
  if (!opts.skipCheck) checkModel(model);
  let corrupt = false;
  const weights = model.layers.map((l) => {
    const coded = quantizedOps(l.kind, schemeOf(model)).coded?.(l);
    if (!coded) return new Int8Array(0);
    const { rows, rowLength } = coded.weights;
    const dec = new RowDecoder(coded.weights);
    const all = new Int8Array(rows * rowLength);
    for (let o = 0; o < rows; o++) dec.nextRow(all.subarray(o * rowLength, (o + 1) * rowLength));
    if (dec.finish()) corrupt = true;
    return all;
  });
  const rowLengths = model.layers.map(
    (l) => quantizedOps(l.kind, schemeOf(model)).coded?.(l).weights.rowLength ?? 0,
  );
  return { model, weights, rowLengths, infos: inferShapes(irGraph(model)), corrupt };
}

/** Runs one window on a prepared model (same arithmetic as runReference). */
export function runPrepared(
  p: PreparedModel,
  input: Int8Array,
  opts: { keepLayerOutputs?: boolean } = {},
): ReferenceResult {
  checkInput(p.model, input, 1);
  const outputs = runLayers(p.model, p.infos, input, (i) => {
    const all = p.weights[i];
    const len = p.rowLengths[i];
    return (o) => all.subarray(o * len, (o + 1) * len);
  });
  const x = outputs[outputs.length - 1];
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
