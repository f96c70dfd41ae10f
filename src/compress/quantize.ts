// Post-training fixed-point quantization: float model (BatchNorm folded, Dropout removed) to the
// integer formats of docs/fixed-point.md. Power-of-two scales: weights per layer or per output
// channel, activations per tensor, calibrated on float activations of training windows.
import { inferShapes } from '../graph/ir.js';
import { GRAPH_INPUT, type FloatModel, type NodeInfo } from '../graph/types.js';
import { fuseRelu } from '../graph/fold.js';
import { fracBitsFor, quantizeValue } from '../fixedpoint/semantics.js';
import { opOf } from '../ops/registry.js';
import { weightFracs } from '../ops/weighted.js';
import { TinyforgeError } from '../util/errors.js';
import { requireFinite, requireFiniteNormalization, requireFiniteParams } from '../util/finite.js';
import { floatForward } from './floatForward.js';
import type { Coding, CodedWeights, CompressedModel, QLayer } from '../qmodel/model.js';

export interface Calibration {
  /** Normalized windows, n * T * C. */
  windows: Float32Array;
  n: number;
}

export interface QuantizeOptions {
  bits: number;
  perChannel: boolean;
  /** Encodes one layer's weight rows; the compressor passes the chosen coding. */
  encode: (values: Int8Array, rows: number, rowLength: number, bits: number, layer: string) => CodedWeights;
  calibration: Calibration;
  normalization: { mean: number[]; std: number[] };
  /** Fraction of the largest |activation| values ignored when choosing formats (0 = true max). */
  clipFraction?: number;
  meta?: Record<string, unknown>;
}

/** Weight rows of a weighted layer's kernel in the layout of src/qmodel/model.ts. */
export function kernelRows(
  info: NodeInfo,
  kernel: Float32Array,
): { rows: number; rowLength: number; data: Float32Array } {
  const layout = opOf(info.layer.kind).weights;
  if (!layout) throw new Error(`layer '${info.layer.name}' has no kernel`);
  return layout.rows(info.layer, info, kernel);
}

export { weightFracs };

/** Float weights rounded onto the grid that quantization will use (for fake-quant fine-tuning). */
export function fakeQuantRows(
  rows: Float32Array,
  nRows: number,
  rowLength: number,
  bits: number,
  fracs: number[],
): Float32Array {
  const out = new Float32Array(rows.length);
  for (let o = 0; o < nRows; o++) {
    const f = fracs.length === 1 ? fracs[0] : fracs[o];
    for (let i = o * rowLength; i < (o + 1) * rowLength; i++)
      out[i] = quantizeValue(rows[i], f, bits) / 2 ** f;
  }
  return out;
}

/** Largest |value| per layer output (and the input) over the calibration windows. */
export function activationRanges(
  model: FloatModel,
  cal: Calibration,
  clipFraction = 0,
): { input: number; outputs: number[] } {
  const infos = inferShapes(model.graph);
  const size = model.graph.inputShape[0] * model.graph.inputShape[1];
  const perLayer: number[][] = infos.map(() => []);
  const input: number[] = [];
  for (let i = 0; i < cal.n; i++) {
    const x = cal.windows.subarray(i * size, (i + 1) * size);
    input.push(maxAbsOf(x));
    floatForward(model, x, infos).outputs.forEach((o, l) => perLayer[l].push(maxAbsOf(o)));
  }
  // Per-window maxima, then a high quantile over windows: robust to one outlier window.
  const pick = (v: number[]): number => {
    v.sort((a, b) => a - b);
    return v[Math.min(v.length - 1, Math.floor((1 - clipFraction) * (v.length - 1) + 0.5))] ?? 0;
  };
  return { input: pick(input), outputs: perLayer.map(pick) };
}

function maxAbsOf(a: Float32Array): number {
  let m = 0;
  for (const v of a) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/** Quantizes a deployable float model (src/graph/fold.ts); layers that vanish (Softmax) are dropped. */
export function quantizeModel(model: FloatModel, opts: QuantizeOptions): CompressedModel {
  const { bits, perChannel } = opts;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8)
    throw new TinyforgeError(`weight bits must be 2..8, got ${bits}`, 'usage');
  // A ReLU after a weighted layer with a ReLU is redundant: fused, its output range is the layer's.
  model = fuseRelu(model);
  const infos = inferShapes(model.graph);
  for (const { layer } of infos) {
    const rule = opOf(layer.kind).deploy?.rule;
    if (rule === 'identity' || rule === 'affine')
      throw new Error(`quantizeModel needs a deployable graph: fold '${layer.name}' first`);
  }
  // Quantization inputs: a NaN weight or range would pick the widest format (fracBitsFor) and
  // quantize to 0, silently.
  requireFiniteParams(model.params, 'quantization');
  requireFiniteNormalization(opts.normalization, 'quantization');
  const size = model.graph.inputShape[0] * model.graph.inputShape[1];
  requireFinite(
    opts.calibration.windows.subarray(0, opts.calibration.n * size),
    'quantization: calibration windows',
    {
      at: (i) => `window ${Math.floor(i / size)}, value ${i % size}`,
    },
  );
  const ranges = activationRanges(model, opts.calibration, opts.clipFraction ?? 0);
  requireFinite(ranges.outputs, 'quantization: activation range', {
    category: 'model',
    at: (i) => `of layer '${infos[i].layer.name}'`,
    hint: 'the float model overflows on the calibration windows: check its weights and the normalization',
  });
  const inputFrac = fracBitsFor(ranges.input, 8);
  const layers: QLayer[] = [];
  // Each node's output tensor: its fractional bits, and the name a quantized layer reads it by
  // (a vanished layer's output is its input's).
  const fracOf: number[] = [];
  const nameOf: string[] = [];
  const inFrac = (p: number): number => (p < 0 ? inputFrac : fracOf[p]);
  const inName = (p: number): string => (p < 0 ? GRAPH_INPUT : nameOf[p]);
  infos.forEach((info, i) => {
    const { layer, inShape, outShape } = info;
    const inputs = info.inputs.map(inName);
    const previous = layers[layers.length - 1]?.name ?? GRAPH_INPUT;
    const sequential = inputs.length === 1 && inputs[0] === previous;
    const r = opOf(layer.kind).quantize(layer, {
      info,
      params: model.params[layer.name],
      inFracs: info.inputs.map(inFrac),
      outRange: ranges.outputs[i],
      bits,
      perChannel,
      base: { name: layer.name, inShape, outShape, ...(sequential ? {} : { inputs }) },
      encode: (values, rows, rowLength, b) => opts.encode(values, rows, rowLength, b, layer.name),
    });
    if ('skip' in r) {
      fracOf.push(inFrac(info.inputs[0]));
      nameOf.push(inputs[0]);
      return;
    }
    layers.push(r.layer);
    fracOf.push(r.outFrac);
    nameOf.push(layer.name);
  });
  return {
    inputShape: [...model.graph.inputShape],
    classNames: [...model.graph.classNames],
    normalization: opts.normalization,
    inputFrac,
    layers,
    meta: { bits, perChannel, ...(opts.meta ?? {}) },
  };
}

export type { Coding };
