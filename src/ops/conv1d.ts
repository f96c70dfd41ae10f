// Conv1D: y[t, o] = act(bias[o] + sum_{j, c} x[t*stride + j*dilation - padLeft, c] * w[j, c, o]),
// Keras semantics ('same' pads floor(total/2) on the left, 'causal' pads (k-1)*dilation). Weights
// [k, Cin, Cout] in tfjs; rows of k*Cin per output channel once quantized (src/qmodel/model.ts).
// On the target an undilated Conv1D reads contiguous windows of the int16 input copy; a dilated one
// runs as the grid H = 1 (src/codegen/kernelPlan.ts gridCopy: the copy split into dilation phases,
// which makes each window contiguous again).
import * as tf from '@tensorflow/tfjs';
import { onnxConv } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { requantize, requantShift } from '../fixedpoint/semantics.js';
import { outLength, padLeft, windowSpan, type ConvPadding, type NodeInfo } from '../graph/types.js';
import { natInt, posInt } from '../qmodel/schemaParts.js';
import { conv1dCustomGrad, padInput } from '../train/conv1d.js';
import { windowOutside } from './window.js';
import type { OpModule } from './types.js';
import { causalAfterPad } from './tfliteFields.js';
import * as W from './weighted.js';
import type { Geometry } from '../codegen/kernelPlan.js';
import type { WeightedLayer, WeightedQ } from './weighted.js';
import { irActivation, type Int8WeightedQ, type WeightedLoop } from './int8.js';
import { TFLITE_2_21_ROUNDING } from '../fixedpoint/tflite.js';

export interface Conv1DLayer extends WeightedLayer {
  kind: 'conv1d';
  filters: number;
  kernelSize: number;
  stride: number;
  padding: ConvPadding;
  /** Keras dilation_rate (absent: 1). */
  dilation?: number;
}

export interface QConv1D extends WeightedQ {
  kind: 'conv1d';
  filters: number;
  kernelSize: number;
  stride: number;
  padding: ConvPadding;
  /** Absent in files from before dilation: 1. */
  dilation?: number;
  /** Zero-padding before the first sample (Keras 'same': floor(total/2), 'causal': span - 1). */
  padLeft: number;
}

const convPadding = z.enum(['same', 'valid', 'causal']);

/** The dilation of a layer (absent: 1). */
export function dilationOf(l: { dilation?: number }): number {
  return l.dilation ?? 1;
}

/** `dilation` only when it is not 1: files and layers without it stay as they were. */
function dilationField(d: number): { dilation?: number } {
  return d === 1 ? {} : { dilation: d };
}

const KIND = 'conv1d';

const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  filters: posInt,
  kernelSize: posInt,
  stride: posInt.default(1),
  dilation: posInt.default(1),
  padding: convPadding.default('valid'),
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
});

type Conv1DFields = W.WeightedFields<QConv1D>;

function toIr(q: QConv1D): Conv1DLayer {
  return irLayer(q, q.relu);
}

function irLayer(q: Conv1DFields, relu: boolean): Conv1DLayer {
  return {
    kind: KIND,
    name: q.name,
    ...(q.inputs ? { inputs: q.inputs } : {}),
    filters: q.filters,
    kernelSize: q.kernelSize,
    stride: q.stride,
    padding: q.padding,
    ...dilationField(dilationOf(q)),
    activation: relu ? 'relu' : 'linear',
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
  const d = dilationOf(layer);
  const pl = padLeft(T, k, layer.stride, layer.padding, d);
  const w = p.kernel!; // [k, C, Co]
  const y = new Float32Array(L * Co);
  for (let t = 0; t < L; t++)
    for (let o = 0; o < Co; o++) {
      let acc = p.bias ? p.bias[o] : 0;
      for (let j = 0; j < k; j++) {
        const ti = t * layer.stride + j * d - pl;
        if (ti < 0 || ti >= T) continue;
        for (let c = 0; c < C; c++) acc += x[ti * C + c] * w[(j * C + c) * Co + o];
      }
      y[t * Co + o] = W.activate(acc, layer.activation);
    }
  return y;
}

/** The reference loop of both schemes: padding positions are skipped (they add nothing). */
const loop: WeightedLoop<Conv1DFields> = (q, x, row, start0, finish) => {
  const [T, Cin] = q.inShape;
  const [L, F] = q.outShape;
  const k = q.kernelSize;
  const d = dilationOf(q);
  const y = new Int8Array(L * F);
  for (let o = 0; o < F; o++) {
    const w = row(o);
    for (let t = 0; t < L; t++) {
      const start = t * q.stride - q.padLeft;
      let acc = start0(o);
      // Taps j with 0 <= start + j*d < T.
      const j0 = Math.max(0, Math.ceil(-start / d));
      const j1 = Math.min(k, Math.ceil((T - start) / d));
      for (let j = j0; j < j1; j++) {
        const xb = (start + j * d) * Cin;
        const wb = j * Cin;
        for (let c = 0; c < Cin; c++) acc += x[xb + c] * w[wb + c];
      }
      y[t * F + o] = finish(o, acc);
    }
  }
  return y;
};

/** Integer reference (pow2). */
function reference(q: QConv1D, xs: Int8Array[], row: (o: number) => Int8Array): Int8Array {
  const shifts = Array.from({ length: q.filters }, (_, o) =>
    requantShift(q.inFrac, W.wFracOf(q, o), q.outFrac),
  );
  return loop(
    q,
    xs[0],
    row,
    (o) => q.bias[o],
    (o, acc) => requantize(acc, shifts[o], q.relu),
  );
}

/** The windows must match the padding and touch the input (both schemes). */
function checkWindows(q: Conv1DFields, info: NodeInfo, fail: (why: string) => never): void {
  const T = info.inShape[0];
  const d = dilationOf(q);
  const expected = padLeft(T, q.kernelSize, q.stride, q.padding, d);
  if (q.padLeft !== expected)
    fail(`padLeft ${q.padLeft}, expected ${expected} for '${q.padding}' with dilation ${d}`);
  const span = windowSpan(q.kernelSize, d);
  const outside = windowOutside(T, span, q.stride, q.padLeft, info.outShape[0]);
  if (outside >= 0) fail(`output position ${outside} has a window outside the input`);
}

/** Under TFLite's int8 scheme (a CONV_2D of one row). */
export type QConv1D8 = Conv1DFields & Int8WeightedQ;

const parts = W.weightedParts<Conv1DLayer, QConv1D>({
  kind: KIND,
  schemaFields: {
    filters: posInt,
    kernelSize: posInt,
    stride: posInt,
    padding: convPadding,
    dilation: posInt.optional(),
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
    ...dilationField(dilationOf(l)),
    padLeft: padLeft(ctx.info.inShape[0], l.kernelSize, l.stride, l.padding, dilationOf(l)),
  }),
  geometry,
  view: (q) => ({ kernelSize: q.kernelSize, stride: q.stride, dilation: dilationOf(q), padLeft: q.padLeft }),
});

/** Undilated: contiguous windows; dilated: the grid of one row (phases make windows contiguous). */
function geometry(q: QConv1D): Geometry {
  const [T, C] = q.inShape;
  const k = q.kernelSize;
  const L = q.outShape[0];
  const g: Geometry = { T, C, k, stride: q.stride, padLeft: q.padLeft, L, cout: q.filters };
  const d = dilationOf(q);
  if (d === 1) return g;
  const grid = { H: 1, W: T, kh: 1, kw: k, sh: 1, sw: q.stride, dh: 1, dw: d, padTop: 0, padLeft: q.padLeft };
  return { ...g, grid: { ...grid, OH: 1, OW: L } };
}

export const conv1d: OpModule<Conv1DLayer, QConv1D> = {
  kind: KIND,
  title: 'Conv1D',
  infer(l, [x], fail) {
    if (x.flat) fail('a Conv1D needs a sequence, not a flattened vector');
    if (x.shape.length !== 2) fail(`a Conv1D needs a sequence [T, C], not [${x.shape.join(', ')}]`);
    const d = dilationOf(l);
    if (l.kernelSize < 1 || l.stride < 1 || l.filters < 1 || d < 1) fail('sizes must be >= 1');
    if (d > 1 && l.stride > 1) fail(`stride ${l.stride} with dilation ${d} (Keras allows only one above 1)`);
    const [T, C] = x.shape;
    const L = outLength(T, l.kernelSize, l.stride, l.padding, d);
    if (L < 1)
      fail(`kernel ${l.kernelSize} (span ${windowSpan(l.kernelSize, d)}) is longer than the sequence`);
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
        ...dilationField(a.dilation),
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
      if ((l.config.groups ?? 1) !== 1) k.unsupported(l, `groups ${l.config.groups} (only 1)`);
      const act = k.activation(l, ['relu', 'linear']);
      const layer: Conv1DLayer = {
        kind: KIND,
        name: l.name,
        filters: Number(l.config.filters),
        kernelSize: k.one(l.config.kernel_size),
        stride: k.one(l.config.strides ?? 1),
        padding: l.config.padding === 'causal' ? 'causal' : k.padding(l),
        ...dilationField(dil),
        activation: act.activation as 'linear' | 'relu',
        useBias: l.config.use_bias ?? true,
      };
      return { layers: [layer, ...act.after] };
    },
  },
  onnx: onnxConv({
    rank: 1,
    depthwise: false,
    paddings: ['same', 'valid', 'causal'],
    layer: (base, w, io): Conv1DLayer => ({
      kind: KIND,
      ...base,
      filters: io.filters,
      kernelSize: w.kernel[0],
      stride: w.strides[0],
      padding: w.padding,
      ...dilationField(w.dilations[0]),
      activation: 'linear',
      useBias: io.useBias,
    }),
  }),
  // TFLite has no 1D operators (Conv2D on a unit row comes back as this): only the causal padding.
  tflite: { opNames: [], fromTflite: () => undefined, absorbPadding: causalAfterPad },
  params(l, info) {
    const cIn = info.inShape[1];
    const fans: [number, number] = [l.kernelSize * cIn, l.kernelSize * l.filters];
    return W.weightedParams([l.kernelSize, cIn, l.filters], fans, l.filters, l.useBias);
  },
  tfjs: {
    layer: (l) => {
      const layer = tf.layers.conv1d({
        name: l.name,
        filters: l.filters,
        kernelSize: l.kernelSize,
        strides: l.stride,
        padding: l.padding,
        dilationRate: dilationOf(l),
        activation: l.activation,
        useBias: l.useBias,
      });
      // tfjs 4.22 computes a causal layer's symbolic output shape as 'valid' (its forward pads
      // correctly): a functional model would not connect. Keras semantics: ceil(T / stride).
      if (l.padding === 'causal')
        layer.computeOutputShape = (s) => {
          const [n, T] = s as (number | null)[];
          return [n, T === null ? null : Math.ceil(T / l.stride), l.filters];
        };
      return layer;
    },
    forward(l, [x], ctx) {
      const w = ctx.param('kernel') as tf.Tensor3D;
      const d = dilationOf(l);
      const x3 = x as tf.Tensor3D;
      // tfjs has no gradient of a dilated conv on any backend: ours serves there too.
      const y: tf.Tensor =
        ctx.customGrad || d > 1
          ? conv1dCustomGrad(x3, w, l.stride, l.padding, d)
          : tf.conv1d(padInput(x3, l.kernelSize, l.stride, l.padding, d), w, l.stride, 'valid', 'NWC', d);
      return W.biasAndActivation(y, l, ctx);
    },
  },
  floatForward,
  pruning: {
    keepOutputs: W.keepFilters,
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
      W.checkWeighted(q, q.filters, q.kernelSize * info.inShape[1], inFracs[0], fail);
      checkWindows(q, info, fail);
    },
    reference,
  },
  codegen: parts.codegen,
  int8: W.weightedInt8<Conv1DLayer, QConv1D8>({
    spec: parts.spec,
    flavour: { fullyConnected: false, rounding: TFLITE_2_21_ROUNDING.conv2d },
    loop,
    outs: (q) => q.filters,
    rowLength: (q, info) => q.kernelSize * info.inShape[1],
    toIr: (q) => irLayer(q, irActivation(q) === 'relu'),
    check: (q, ctx) => checkWindows(q, ctx.info, ctx.fail),
  }),
};
