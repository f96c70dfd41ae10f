// Conv1D: y[t, o] = act(bias[o] + sum_{j, c} x[t*stride + j - padLeft, c] * w[j, c, o]), Keras
// semantics ('same' pads floor(total/2) on the left). Weights [k, Cin, Cout] in tfjs; rows of
// k*Cin per output channel once quantized (src/qmodel/model.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { archName } from './archFields.js';
import { requantize, requantShift } from '../fixedpoint/semantics.js';
import { outLength, padLeft, type NodeInfo, type Padding } from '../graph/types.js';
import { natInt, padding as paddingSchema, posInt } from '../qmodel/schemaParts.js';
import { conv1dCustomGrad } from '../train/conv1d.js';
import { windowOutside } from './window1d.js';
import type { OpModule } from './types.js';
import * as W from './weighted.js';
import type { WeightedLayer, WeightedQ } from './weighted.js';

export interface Conv1DLayer extends WeightedLayer {
  kind: 'conv1d';
  filters: number;
  kernelSize: number;
  stride: number;
  padding: Padding;
}

export interface QConv1D extends WeightedQ {
  kind: 'conv1d';
  filters: number;
  kernelSize: number;
  stride: number;
  padding: Padding;
  /** Zero-padding before the first sample (Keras 'same': floor(total/2)). */
  padLeft: number;
}

const KIND = 'conv1d';

const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  filters: posInt,
  kernelSize: posInt,
  stride: posInt.default(1),
  padding: paddingSchema.default('valid'),
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
});

function toIr(q: QConv1D): Conv1DLayer {
  return {
    kind: KIND,
    name: q.name,
    ...(q.inputs ? { inputs: q.inputs } : {}),
    filters: q.filters,
    kernelSize: q.kernelSize,
    stride: q.stride,
    padding: q.padding,
    activation: q.relu ? 'relu' : 'linear',
    useBias: true,
  };
}

/** Float rows: row o = w[o][j][c] (tfjs kernel [k, Cin, Co], output channel innermost). */
function rows(layer: Conv1DLayer, info: NodeInfo, kernel: Float32Array) {
  const Cin = info.inShape[1];
  const k = layer.kernelSize;
  const Co = layer.filters;
  const data = new Float32Array(Co * k * Cin);
  for (let o = 0; o < Co; o++)
    for (let j = 0; j < k; j++)
      for (let c = 0; c < Cin; c++) data[(o * k + j) * Cin + c] = kernel[(j * Cin + c) * Co + o];
  return { rows: Co, rowLength: k * Cin, data };
}

function floatForward(
  layer: Conv1DLayer,
  info: NodeInfo,
  p: { kernel?: Float32Array; bias?: Float32Array },
  xs: Float32Array[],
) {
  const x = xs[0];
  const [T, C] = info.inShape;
  const [L, Co] = info.outShape;
  const k = layer.kernelSize;
  const pl = padLeft(T, k, layer.stride, layer.padding);
  const w = p.kernel!; // [k, C, Co]
  const y = new Float32Array(L * Co);
  for (let t = 0; t < L; t++)
    for (let o = 0; o < Co; o++) {
      let acc = p.bias ? p.bias[o] : 0;
      for (let j = 0; j < k; j++) {
        const ti = t * layer.stride + j - pl;
        if (ti < 0 || ti >= T) continue;
        for (let c = 0; c < C; c++) acc += x[ti * C + c] * w[(j * C + c) * Co + o];
      }
      y[t * Co + o] = W.activate(acc, layer.activation);
    }
  return y;
}

/** Integer reference: padding positions hold zeros, so the tap range is clipped. */
function reference(q: QConv1D, xs: Int8Array[], row: (o: number) => Int8Array): Int8Array {
  const x = xs[0];
  const [T, Cin] = q.inShape;
  const [L, F] = q.outShape;
  const k = q.kernelSize;
  const y = new Int8Array(L * F);
  for (let o = 0; o < F; o++) {
    const w = row(o);
    const shift = requantShift(q.inFrac, W.wFracOf(q, o), q.outFrac);
    for (let t = 0; t < L; t++) {
      const start = t * q.stride - q.padLeft;
      let acc = q.bias[o];
      const j0 = Math.max(0, -start);
      const j1 = Math.min(k, T - start);
      for (let j = j0; j < j1; j++) {
        const xb = (start + j) * Cin;
        const wb = j * Cin;
        for (let c = 0; c < Cin; c++) acc += x[xb + c] * w[wb + c];
      }
      y[t * F + o] = requantize(acc, shift, q.relu);
    }
  }
  return y;
}

const parts = W.weightedParts<Conv1DLayer, QConv1D>({
  kind: KIND,
  schemaFields: {
    filters: posInt,
    kernelSize: posInt,
    stride: posInt,
    padding: paddingSchema,
    padLeft: natInt,
  },
  outChannels: (l) => l.filters,
  rows,
  fields: (l, ctx) => ({
    kind: KIND,
    filters: l.filters,
    kernelSize: l.kernelSize,
    stride: l.stride,
    padding: l.padding,
    padLeft: padLeft(ctx.info.inShape[0], l.kernelSize, l.stride, l.padding),
  }),
  geometry,
  view: (q) => ({ kernelSize: q.kernelSize, stride: q.stride, padLeft: q.padLeft }),
});

function geometry(q: QConv1D) {
  const [T, C] = q.inShape;
  return { T, C, k: q.kernelSize, stride: q.stride, padLeft: q.padLeft, L: q.outShape[0], cout: q.filters };
}

export const conv1d: OpModule<Conv1DLayer, QConv1D> = {
  kind: KIND,
  title: 'Conv1D',
  infer(l, [x], fail) {
    if (x.flat) fail('a Conv1D needs a sequence, not a flattened vector');
    if (l.kernelSize < 1 || l.stride < 1 || l.filters < 1) fail('sizes must be >= 1');
    const [T, C] = x.shape;
    const L = outLength(T, l.kernelSize, l.stride, l.padding);
    if (L < 1) fail(`kernel ${l.kernelSize} is longer than the sequence`);
    return {
      shape: [L, l.filters],
      flat: false,
      params: l.kernelSize * C * l.filters + (l.useBias ? l.filters : 0),
      macs: L * l.filters * l.kernelSize * C,
    };
  },
  arch: {
    schema: archSchema,
    toLayer: (s, { name }) => {
      const a = s as z.output<typeof archSchema>;
      return {
        kind: KIND,
        name,
        filters: a.filters,
        kernelSize: a.kernelSize,
        stride: a.stride,
        padding: a.padding,
        activation: a.activation,
        useBias: a.useBias,
      };
    },
    widthKey: 'filters',
  },
  keras: {
    classNames: ['Conv1D'],
    fromKeras(l, k) {
      k.checkChannelsLast(l);
      const dil = k.one(l.config.dilation_rate ?? 1);
      if (dil !== 1) k.unsupported(l, `dilation_rate ${dil} (only 1)`);
      if ((l.config.groups ?? 1) !== 1) k.unsupported(l, `groups ${l.config.groups} (only 1)`);
      const act = k.activation(l, ['relu', 'linear']);
      const layer: Conv1DLayer = {
        kind: KIND,
        name: l.name,
        filters: Number(l.config.filters),
        kernelSize: k.one(l.config.kernel_size),
        stride: k.one(l.config.strides ?? 1),
        padding: k.padding(l),
        activation: act.activation as 'linear' | 'relu',
        useBias: l.config.use_bias ?? true,
      };
      return { layers: [layer, ...act.after] };
    },
  },
  params(l, info) {
    const cIn = info.inShape[1];
    const fans: [number, number] = [l.kernelSize * cIn, l.kernelSize * l.filters];
    return W.weightedParams([l.kernelSize, cIn, l.filters], fans, l.filters, l.useBias);
  },
  tfjs: {
    layer: (l) =>
      tf.layers.conv1d({
        name: l.name,
        filters: l.filters,
        kernelSize: l.kernelSize,
        strides: l.stride,
        padding: l.padding,
        activation: l.activation,
        useBias: l.useBias,
      }),
    forward(l, [x], ctx) {
      const w = ctx.param('kernel') as tf.Tensor3D;
      const y: tf.Tensor = ctx.customGrad
        ? conv1dCustomGrad(x as tf.Tensor3D, w, l.stride, l.padding)
        : tf.conv1d(x as tf.Tensor3D, w, l.stride, l.padding);
      return W.biasAndActivation(y, l, ctx);
    },
  },
  floatForward,
  pruning: {
    keepOutputs(l, p, keep) {
      const Co = l.filters;
      const w = p.kernel!;
      const rowsOf = w.length / Co;
      const kernel = new Float32Array(rowsOf * keep.length);
      for (let r = 0; r < rowsOf; r++) keep.forEach((o, i) => (kernel[r * keep.length + i] = w[r * Co + o]));
      return {
        layer: { ...l, filters: keep.length },
        params: { ...p, kernel, ...(p.bias ? { bias: Float32Array.from(keep, (o) => p.bias![o]) } : {}) },
      };
    },
    // kernel [k, Cin, Co]: keep input channels of every tap.
    keepInputs: (l, p, keep, Cin) => ({
      params: { ...p, kernel: W.keepKernelInputs(p.kernel!, l.kernelSize, Cin, keep, l.filters) },
      stop: true,
    }),
  },
  ...parts.stages,
  quantized: {
    toIr,
    ...parts.quantized,
    check(q, { info, inFracs, fail }) {
      const [T, C] = info.inShape;
      W.checkWeighted(q, q.filters, q.kernelSize * C, inFracs[0], fail);
      const expected = padLeft(T, q.kernelSize, q.stride, q.padding);
      if (q.padLeft !== expected) fail(`padLeft ${q.padLeft}, expected ${expected} for '${q.padding}'`);
      const outside = windowOutside(T, q.kernelSize, q.stride, q.padLeft, info.outShape[0]);
      if (outside >= 0) fail(`output position ${outside} has a window outside the input`);
    },
    reference,
  },
  codegen: parts.codegen,
};
