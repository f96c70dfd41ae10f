// Conv2D on [H, W, C] (channels last), Keras semantics:
//   y[oy, ox, o] = act(bias[o] + sum_{r, s, c} x[oy*sh + r*dh - top, ox*sw + s*dw - left, c] * w[r, s, c, o])
// with zeros outside the input ('same' pads floor(total/2) before, the rest after). Weights
// [kh, kw, Cin, Cout] in tfjs; rows of kh*kw*Cin (r, s, c; c fastest) per output channel once
// quantized. On the target a 1x1 kernel of stride 1 (pointwise) is the Conv1D kernel over H*W
// positions; any other runs as a grid (src/codegen/kernelPlan.ts gridCopy, docs/architecture.md).
import * as tf from '@tensorflow/tfjs';
import { onnxConv } from './onnxFields.js';
import { z } from 'zod';
import { archName, both, window2dArchFields, window2dLayer, type Pair, type Window2D } from './archFields.js';
import { requantize, requantShift } from '../fixedpoint/semantics.js';
import { outLength, padLeft, windowSpan, type NodeInfo } from '../graph/types.js';
import { natInt, padding as paddingSchema, posInt } from '../qmodel/schemaParts.js';
import { conv2dCustomGrad } from '../train/conv2d.js';
import type { Geometry } from '../codegen/kernelPlan.js';
import { windowOutside } from './window.js';
import type { OpModule } from './types.js';
import type { Layer } from '../graph/types.js';
import type { TfliteOpContext, TfliteResult } from './tfliteTypes.js';
import {
  CONV_OPTIONS as CO,
  hw,
  inputRank,
  ohwiToHwio,
  optionalBias,
  requiredConstant,
  tflitePadding,
} from './tfliteFields.js';
import * as W from './weighted.js';
import type { WeightedLayer, WeightedQ } from './weighted.js';
import { irActivation, type Int8WeightedQ, type WeightedLoop } from './int8.js';
import { TFLITE_2_21_ROUNDING } from '../fixedpoint/tflite.js';

export interface Conv2DLayer extends WeightedLayer, Window2D {
  kind: 'conv2d';
  filters: number;
}

export interface QConv2D extends WeightedQ, Window2D {
  kind: 'conv2d';
  filters: number;
  /** Zero rows above and columns left of the input (Keras 'same': floor(total/2) each). */
  pad: Pair;
}

const KIND = 'conv2d';
const pairSchema = z.tuple([posInt, posInt]);

const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  filters: posInt,
  ...window2dArchFields,
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
});

/** Output size and leading padding of both axes. */
function axes(l: Pick<Conv2DLayer, 'kernelSize' | 'strides' | 'dilation' | 'padding'>, H: number, W: number) {
  const along = (a: 0 | 1, n: number) => ({
    out: outLength(n, l.kernelSize[a], l.strides[a], l.padding, l.dilation[a]),
    pad: padLeft(n, l.kernelSize[a], l.strides[a], l.padding, l.dilation[a]),
  });
  const h = along(0, H);
  const w = along(1, W);
  return { OH: h.out, OW: w.out, pad: [h.pad, w.pad] as Pair };
}

/** Float rows: row o = w[r][s][c][o] over (r, s, c) (tfjs kernel [kh, kw, Cin, Co]). */
function rows(l: Conv2DLayer, info: NodeInfo, kernel: Float32Array) {
  const C = info.inShape[2];
  const n = l.kernelSize[0] * l.kernelSize[1] * C;
  const Co = l.filters;
  const data = new Float32Array(Co * n);
  for (let o = 0; o < Co; o++) for (let i = 0; i < n; i++) data[o * n + i] = kernel[i * Co + o];
  return { rows: Co, rowLength: n, data };
}

/**
 * Visits every output position and the taps of its window that exist: tap(i, j) with i the input
 * index (channel 0) and j the row index (channel 0). Both forwards share it.
 */
function eachWindow(
  g: { H: number; W: number; C: number; OH: number; OW: number; k: Pair; s: Pair; d: Pair; pad: Pair },
  visit: (t: number, taps: (tap: (i: number, j: number) => void) => void) => void,
): void {
  for (let oy = 0; oy < g.OH; oy++)
    for (let ox = 0; ox < g.OW; ox++)
      visit(oy * g.OW + ox, (tap) => {
        for (let r = 0; r < g.k[0]; r++) {
          const y = oy * g.s[0] + r * g.d[0] - g.pad[0];
          if (y < 0 || y >= g.H) continue;
          for (let s = 0; s < g.k[1]; s++) {
            const x = ox * g.s[1] + s * g.d[1] - g.pad[1];
            if (x < 0 || x >= g.W) continue;
            tap((y * g.W + x) * g.C, (r * g.k[1] + s) * g.C);
          }
        }
      });
}

function floatForward(
  l: Conv2DLayer,
  info: NodeInfo,
  p: { kernel?: Float32Array; bias?: Float32Array },
  xs: Float32Array[],
) {
  const x = xs[0];
  const [H, Wd, C] = info.inShape;
  const { OH, OW, pad } = axes(l, H, Wd);
  const Co = l.filters;
  const w = p.kernel!; // [kh, kw, C, Co]
  const y = new Float32Array(OH * OW * Co);
  const g = { H, W: Wd, C, OH, OW, k: l.kernelSize, s: l.strides, d: l.dilation, pad };
  eachWindow(g, (t, taps) => {
    const acc = new Float64Array(Co);
    if (p.bias) for (let o = 0; o < Co; o++) acc[o] = p.bias[o];
    taps((i, j) => {
      for (let c = 0; c < C; c++) {
        const v = x[i + c];
        const wb = (j + c) * Co;
        for (let o = 0; o < Co; o++) acc[o] += v * w[wb + o];
      }
    });
    for (let o = 0; o < Co; o++) y[t * Co + o] = W.activate(acc[o], l.activation);
  });
  return y;
}

type Conv2DFields = W.WeightedFields<QConv2D>;

/** The reference loop of both schemes: taps outside the input are skipped (they add nothing). */
const loop: WeightedLoop<Conv2DFields> = (q, x, row, start, finish) => {
  const [H, Wd, C] = q.inShape;
  const [OH, OW, F] = q.outShape;
  const y = new Int8Array(OH * OW * F);
  const g = { H, W: Wd, C, OH, OW, k: q.kernelSize, s: q.strides, d: q.dilation, pad: q.pad };
  for (let o = 0; o < F; o++) {
    const w = row(o);
    const acc0 = start(o);
    eachWindow(g, (t, taps) => {
      let acc = acc0;
      taps((i, j) => {
        for (let c = 0; c < C; c++) acc += x[i + c] * w[j + c];
      });
      y[t * F + o] = finish(o, acc);
    });
  }
  return y;
};

/** Integer reference (pow2). */
function reference(q: QConv2D, xs: Int8Array[], row: (o: number) => Int8Array): Int8Array {
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
function checkWindows(q: Conv2DFields, info: NodeInfo, fail: (why: string) => never): void {
  const [H, Wd] = info.inShape;
  const { pad, OH, OW } = axes(q, H, Wd);
  if (!Array.isArray(q.pad) || q.pad[0] !== pad[0] || q.pad[1] !== pad[1])
    fail(`pad [${q.pad}], expected [${pad}] for '${q.padding}'`);
  const axesOf = [
    [H, 0, OH],
    [Wd, 1, OW],
  ] as const;
  for (const [n, a, out] of axesOf) {
    const span = windowSpan(q.kernelSize[a], q.dilation[a]);
    const outside = windowOutside(n, span, q.strides[a], q.pad[a], out);
    if (outside >= 0) fail(`output ${a === 0 ? 'row' : 'column'} ${outside} has a window outside the input`);
  }
}

function irLayer(q: Conv2DFields, relu: boolean): Conv2DLayer {
  return {
    kind: KIND,
    name: q.name,
    ...(q.inputs ? { inputs: q.inputs } : {}),
    filters: q.filters,
    kernelSize: q.kernelSize,
    strides: q.strides,
    dilation: q.dilation,
    padding: q.padding,
    activation: relu ? 'relu' : 'linear',
    useBias: true,
  };
}

/** Under TFLite's int8 scheme (CONV_2D). */
export type QConv2D8 = Conv2DFields & Int8WeightedQ;

/** Pointwise (1x1, stride 1): the Conv1D kernel over H*W positions; else the grid kernel. */
function geometry(q: QConv2D): Geometry {
  const [H, Wd, C] = q.inShape;
  const [OH, OW] = q.outShape;
  const [kh, kw] = q.kernelSize;
  const [sh, sw] = q.strides;
  const cout = q.filters;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1)
    return { T: H * Wd, C, k: 1, stride: 1, padLeft: 0, L: H * Wd, cout };
  const [dh, dw] = q.dilation;
  const grid = { H, W: Wd, kh, kw, sh, sw, dh, dw, padTop: q.pad[0], padLeft: q.pad[1], OH, OW };
  return { T: H * Wd, C, k: kh * kw, stride: 1, padLeft: 0, L: OH * OW, cout, grid };
}

const parts = W.weightedParts<Conv2DLayer, QConv2D>({
  kind: KIND,
  schemaFields: {
    filters: posInt,
    kernelSize: pairSchema,
    strides: pairSchema,
    dilation: pairSchema,
    padding: paddingSchema,
    pad: z.tuple([natInt, natInt]),
  },
  outChannels: (l) => l.filters,
  rows,
  fields: (l, ctx) => ({
    kind: KIND,
    filters: l.filters,
    kernelSize: l.kernelSize,
    strides: l.strides,
    dilation: l.dilation,
    padding: l.padding,
    pad: axes(l, ctx.info.inShape[0], ctx.info.inShape[1]).pad,
  }),
  geometry,
  // The kernel's sequence view of the tensors: [H*W, C] in, [OH*OW, Co] out.
  view: (q) => ({
    inT: q.inShape[0] * q.inShape[1],
    inC: q.inShape[2],
    outT: q.outShape[0] * q.outShape[1],
    outC: q.filters,
    H: q.inShape[0],
    W: q.inShape[1],
    OH: q.outShape[0],
    OW: q.outShape[1],
    kh: q.kernelSize[0],
    kw: q.kernelSize[1],
    sh: q.strides[0],
    sw: q.strides[1],
    dh: q.dilation[0],
    dw: q.dilation[1],
    padTop: q.pad[0],
    padLeft: q.pad[1],
  }),
});

export const conv2d: OpModule<Conv2DLayer, QConv2D> = {
  kind: KIND,
  title: 'Conv2D',
  infer(l, [x], fail) {
    if (x.flat || x.shape.length !== 3)
      fail(`a Conv2D needs an image [H, W, C], not [${x.shape.join(', ')}]`);
    const sizes = [...l.kernelSize, ...l.strides, ...l.dilation, l.filters];
    if (sizes.some((v) => !Number.isInteger(v) || v < 1)) fail('sizes must be integers >= 1');
    if (l.strides.some((s) => s > 1) && l.dilation.some((d) => d > 1))
      fail(`strides [${l.strides}] with dilation [${l.dilation}] (Keras allows only one above 1)`);
    const [H, Wd, C] = x.shape;
    const { OH, OW } = axes(l, H, Wd);
    if (OH < 1 || OW < 1)
      fail(
        `kernel ${l.kernelSize.join('x')} (span ${windowSpan(l.kernelSize[0], l.dilation[0])}x${windowSpan(l.kernelSize[1], l.dilation[1])}) is larger than the input ${H}x${Wd}`,
      );
    const taps = l.kernelSize[0] * l.kernelSize[1] * C;
    return {
      shape: [OH, OW, l.filters],
      flat: false,
      params: taps * l.filters + (l.useBias ? l.filters : 0),
      macs: OH * OW * l.filters * taps,
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
        ...window2dLayer(a),
        activation: a.activation,
        useBias: a.useBias,
      };
    },
    widthKey: 'filters',
  },
  keras: {
    classNames: ['Conv2D'],
    fromKeras(l, k) {
      k.checkChannelsLast(l);
      if ((l.config.groups ?? 1) !== 1) k.unsupported(l, `groups ${l.config.groups} (only 1)`);
      const act = k.activation(l, ['relu', 'linear']);
      const layer: Conv2DLayer = {
        kind: KIND,
        name: l.name,
        filters: Number(l.config.filters),
        kernelSize: both(l.config.kernel_size),
        strides: both(l.config.strides ?? 1),
        dilation: both(l.config.dilation_rate ?? 1),
        padding: k.padding(l),
        activation: act.activation as 'linear' | 'relu',
        useBias: l.config.use_bias ?? true,
      };
      return { layers: [layer, ...act.after] };
    },
  },
  tflite: { opNames: ['CONV_2D'], fromTflite: conv2dFromTflite, collapse1d: conv2dTo1d },
  onnx: onnxConv({
    rank: 2,
    depthwise: false,
    paddings: ['same', 'valid'],
    layer: (base, w, io): Conv2DLayer => ({
      kind: KIND,
      ...base,
      filters: io.filters,
      kernelSize: [w.kernel[0], w.kernel[1]],
      strides: [w.strides[0], w.strides[1]],
      dilation: [w.dilations[0], w.dilations[1]],
      padding: w.padding === 'same' ? 'same' : 'valid',
      activation: 'linear',
      useBias: io.useBias,
    }),
  }),
  params(l, info) {
    const C = info.inShape[2];
    const [kh, kw] = l.kernelSize;
    return W.weightedParams([kh, kw, C, l.filters], [kh * kw * C, kh * kw * l.filters], l.filters, l.useBias);
  },
  tfjs: {
    layer: (l) =>
      tf.layers.conv2d({
        name: l.name,
        filters: l.filters,
        kernelSize: l.kernelSize,
        strides: l.strides,
        dilationRate: l.dilation,
        padding: l.padding,
        activation: l.activation,
        useBias: l.useBias,
      }),
    forward(l, [x], ctx) {
      const w = ctx.param('kernel') as tf.Tensor4D;
      const x4 = x as tf.Tensor4D;
      // tfjs has no gradient of a dilated conv2d on any backend: ours serves there too.
      const y: tf.Tensor =
        ctx.customGrad || l.dilation.some((d) => d > 1)
          ? conv2dCustomGrad(x4, w, l.strides, l.padding, l.dilation)
          : tf.conv2d(x4, w, l.strides, l.padding, 'NHWC', l.dilation);
      return W.biasAndActivation(y, l, ctx);
    },
  },
  floatForward,
  pruning: {
    keepOutputs: W.keepFilters,
    // kernel [kh, kw, Cin, Co]: keep input channels of every tap.
    keepInputs: (l, p, keep, Cin) => ({
      params: {
        ...p,
        kernel: W.keepKernelInputs(p.kernel!, l.kernelSize[0] * l.kernelSize[1], Cin, keep, l.filters),
      },
      stop: true,
    }),
  },
  ...parts.stages,
  quantized: {
    toIr: (q) => irLayer(q, q.relu),
    ...parts.quantized,
    check(q, { info, inFracs, fail }) {
      W.checkWeighted(q, q.filters, q.kernelSize[0] * q.kernelSize[1] * info.inShape[2], inFracs[0], fail);
      checkWindows(q, info, fail);
    },
    reference,
  },
  codegen: parts.codegen,
  int8: W.weightedInt8<Conv2DLayer, QConv2D8>({
    spec: parts.spec,
    flavour: { fullyConnected: false, rounding: TFLITE_2_21_ROUNDING.conv2d },
    loop,
    outs: (q) => q.filters,
    rowLength: (q, info) => q.kernelSize[0] * q.kernelSize[1] * info.inShape[2],
    toIr: (q) => irLayer(q, irActivation(q) === 'relu'),
    check: (q, ctx) => checkWindows(q, ctx.info, ctx.fail),
  }),
};

/** TFLite CONV_2D: filter [Co, kh, kw, Ci] (to [kh, kw, Ci, Co]), optional bias, fused ReLU. */
function conv2dFromTflite(ctx: TfliteOpContext): TfliteResult | undefined {
  if (inputRank(ctx) !== 3) return undefined;
  const f = requiredConstant(ctx, 1, 'filter');
  const [Co, kh, kw, Ci] = f.shape;
  const C = ctx.inShapes[0][2];
  if (f.shape.length !== 4) ctx.unsupported(`a filter of shape [${f.shape.join(', ')}]`);
  if (Ci !== C) ctx.unsupported(`groups ${C / Ci} (a grouped convolution; only 1)`);
  const act = ctx.activation(CO.activation, true);
  const bias = optionalBias(ctx, Co);
  const layer: Conv2DLayer = {
    kind: KIND,
    name: ctx.name,
    filters: Co,
    kernelSize: [kh, kw],
    strides: hw(ctx, CO.strideH, CO.strideW, 1),
    dilation: hw(ctx, CO.dilationH, CO.dilationW, 1),
    padding: tflitePadding(ctx, CO.padding),
    activation: act.activation,
    useBias: bias !== undefined,
  };
  const kernel = ohwiToHwio(f.data, f.shape);
  return { layers: [layer, ...act.after], params: { [ctx.name]: bias ? { kernel, bias } : { kernel } } };
}

/** A kernel of one row on [1, W, C] is the Conv1D along W (kernel [1, k, Ci, Co] is [k, Ci, Co]). */
function conv2dTo1d(layer: Layer): Layer | undefined {
  const l = layer as Conv2DLayer;
  if (l.kernelSize[0] !== 1) return undefined;
  return {
    kind: 'conv1d',
    name: l.name,
    ...(l.inputs ? { inputs: l.inputs } : {}),
    filters: l.filters,
    kernelSize: l.kernelSize[1],
    stride: l.strides[1],
    padding: l.padding,
    ...(l.dilation[1] !== 1 ? { dilation: l.dilation[1] } : {}),
    activation: l.activation,
    useBias: l.useBias,
  } as Layer;
}
