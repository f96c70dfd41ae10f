// Post-training fixed-point quantization: float model (BatchNorm folded, Dropout removed) to the
// integer formats of docs/fixed-point.md. Power-of-two scales: weights per layer or per output
// channel, activations per tensor, calibrated on float activations of training windows.
import { inferShapes, padLeft, type FloatModel, type NodeInfo } from '../graph/ir.js';
import {
  ACC_LIMIT,
  MAX_SHIFT,
  fracBitsFor,
  quantizeBias,
  quantizeValue,
  weightRange,
} from '../fixedpoint/semantics.js';
import { TinyforgeError } from '../util/errors.js';
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

/** Weight rows of a conv1d/dense kernel in the layout of src/qmodel/model.ts. */
export function kernelRows(
  info: NodeInfo,
  kernel: Float32Array,
): { rows: number; rowLength: number; data: Float32Array } {
  const { layer } = info;
  const Cin = info.inShape[1];
  if (layer.kind === 'conv1d') {
    const k = layer.kernelSize;
    const Co = layer.filters;
    const data = new Float32Array(Co * k * Cin);
    for (let o = 0; o < Co; o++)
      for (let j = 0; j < k; j++)
        for (let c = 0; c < Cin; c++) data[(o * k + j) * Cin + c] = kernel[(j * Cin + c) * Co + o];
    return { rows: Co, rowLength: k * Cin, data };
  }
  if (layer.kind === 'dense') {
    const F = info.inShape[0] * Cin;
    const Co = layer.units;
    const data = new Float32Array(Co * F);
    for (let o = 0; o < Co; o++) for (let i = 0; i < F; i++) data[o * F + i] = kernel[i * Co + o];
    return { rows: Co, rowLength: F, data };
  }
  throw new Error(`layer '${layer.name}' has no kernel`);
}

/** Fractional bits of each row's weights (one entry when per layer). */
export function weightFracs(
  rows: Float32Array,
  nRows: number,
  rowLength: number,
  bits: number,
  perChannel: boolean,
): number[] {
  const maxAbs = (from: number, to: number): number => {
    let m = 0;
    for (let i = from; i < to; i++) m = Math.max(m, Math.abs(rows[i]));
    return m;
  };
  if (!perChannel) return [fracBitsFor(maxAbs(0, rows.length), bits)];
  return Array.from({ length: nRows }, (_, o) =>
    fracBitsFor(maxAbs(o * rowLength, (o + 1) * rowLength), bits),
  );
}

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

/** Quantizes a deployable float model (no BatchNorm/Dropout; a trailing Softmax is dropped). */
export function quantizeModel(model: FloatModel, opts: QuantizeOptions): CompressedModel {
  const { bits, perChannel } = opts;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8)
    throw new TinyforgeError(`weight bits must be 2..8, got ${bits}`, 'usage');
  const infos = inferShapes(model.graph);
  for (const { layer } of infos)
    if (layer.kind === 'batchnorm' || layer.kind === 'dropout')
      throw new Error(`quantizeModel needs a deployable graph: fold '${layer.name}' first`);
  const ranges = activationRanges(model, opts.calibration, opts.clipFraction ?? 0);
  const inputFrac = fracBitsFor(ranges.input, 8);
  const layers: QLayer[] = [];
  let frac = inputFrac;
  for (let l = 0; l < infos.length; l++) {
    const info = infos[l];
    const { layer, inShape, outShape } = info;
    const base = { name: layer.name, inShape, outShape };
    switch (layer.kind) {
      case 'conv1d':
      case 'dense': {
        // A standalone ReLU right after is fused; its output range is the one to fit.
        const next = infos[l + 1]?.layer;
        const fuseRelu = next?.kind === 'relu';
        const relu = layer.activation === 'relu' || fuseRelu;
        const outRange = ranges.outputs[fuseRelu ? l + 1 : l];
        const p = model.params[layer.name];
        if (!p?.kernel) throw new TinyforgeError(`layer '${layer.name}' has no kernel weights`, 'model');
        const { rows, rowLength, data } = kernelRows(info, p.kernel);
        const wFrac = weightFracs(data, rows, rowLength, bits, perChannel);
        // Shift = inFrac + wFrac - outFrac must lie in [0, 31]: the accumulator never has fewer
        // fractional bits than the output, and tiny channels do not need more than 31 extra.
        let outFrac = Math.min(fracBitsFor(outRange, 8), frac + Math.min(...wFrac));
        outFrac = Math.max(outFrac, frac + Math.max(...wFrac) - MAX_SHIFT);
        for (let o = 0; o < wFrac.length; o++) wFrac[o] = Math.min(wFrac[o], MAX_SHIFT + outFrac - frac);
        const values = new Int8Array(rows * rowLength);
        for (let o = 0; o < rows; o++) {
          const f = wFrac.length === 1 ? wFrac[0] : wFrac[o];
          for (let i = o * rowLength; i < (o + 1) * rowLength; i++)
            values[i] = quantizeValue(data[i], f, bits);
        }
        const bias = new Int32Array(rows);
        for (let o = 0; o < rows; o++) {
          const f = wFrac.length === 1 ? wFrac[0] : wFrac[o];
          bias[o] = p.bias ? quantizeBias(p.bias[o], frac + f) : 0;
        }
        const worst = Math.max(...Array.from(bias, Math.abs)) + rowLength * 128 * -weightRange(bits)[0];
        if (worst >= ACC_LIMIT)
          throw new TinyforgeError(
            `layer '${layer.name}': worst-case accumulator ${worst} exceeds 2^30`,
            'model',
            'use fewer input features per output (smaller kernel/fewer channels) or fewer weight bits',
          );
        const weights = opts.encode(values, rows, rowLength, bits, layer.name);
        if (layer.kind === 'conv1d') {
          layers.push({
            ...base,
            kind: 'conv1d',
            filters: layer.filters,
            kernelSize: layer.kernelSize,
            stride: layer.stride,
            padding: layer.padding,
            padLeft: padLeft(inShape[0], layer.kernelSize, layer.stride, layer.padding),
            relu,
            inFrac: frac,
            outFrac,
            wFrac,
            bias,
            weights,
          });
        } else {
          layers.push({
            ...base,
            kind: 'dense',
            units: layer.units,
            relu,
            inFrac: frac,
            outFrac,
            wFrac,
            bias,
            weights,
          });
        }
        frac = outFrac;
        if (fuseRelu) {
          layers[layers.length - 1].outShape = infos[l + 1].outShape;
          l++;
        }
        break;
      }
      case 'maxpool1d':
      case 'avgpool1d':
        layers.push({
          ...base,
          kind: layer.kind,
          poolSize: layer.poolSize,
          stride: layer.stride,
          padding: layer.padding,
          padLeft: padLeft(inShape[0], layer.poolSize, layer.stride, layer.padding),
          frac,
        });
        break;
      case 'gap1d':
        layers.push({ ...base, kind: 'gap1d', frac });
        break;
      case 'flatten':
      case 'relu':
        layers.push({ ...base, kind: layer.kind, frac });
        break;
      case 'softmax':
        // Argmax of the logits is the class: softmax does not change it.
        break;
      case 'batchnorm':
      case 'dropout':
        break;
    }
  }
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
