// What DepthwiseConv1D and DepthwiseConv2D share: one geometry (a 1D layer is the 2D one with
// H = 1), the float and integer kernels, quantization, .tfm fields and the C view. Keras semantics:
//   y[oy, ox, c*M + m] = act(bias[c*M + m] + sum_{i,j} x[oy*sh + i*dh - padTop, ox*sw + j*dw - padLeft, c]
//                                                       * w[i, j, c, m])
// with zeros outside the input. Kernel [kh, kw, C, M] in tfjs/Keras ([k, C, M] in 1D); once
// quantized, one row of kh*kw taps per output channel o = c*M + m (src/qmodel/model.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import {
  archName,
  paddings1d,
  window1dArchFields,
  window1dLayer,
  window2dArchFields,
  window2dLayer,
  type Pair,
  type Window1D,
  type Window2D,
} from './archFields.js';
import { requantize, requantShift } from '../fixedpoint/semantics.js';
import {
  outLength,
  padLeft as padBefore,
  type ConvPadding,
  type LayerParams,
  type NodeInfo,
  type Shape,
} from '../graph/types.js';
import { natInt, posInt } from '../qmodel/schemaParts.js';
import { decodeWeights } from '../qmodel/coding/index.js';
import { chooseLut } from '../codegen/kernelPlan.js';
import { smallGridView, type SmallView } from '../codegen/weightedKernel.js';
import { alignUp } from '../codegen/planner.js';
import { int8RequantView, requantView, weightsView } from '../codegen/weightsData.js';
import type { LayerView, LayerViewBase, RequantView, UsedFunction } from '../codegen/viewTypes.js';
import { depthwiseCustomGrad, type DwWindow } from '../train/depthwise.js';
import type { KerasContext, KerasLayer, OpModule, ParamSpec, Prepared, TfContext } from './types.js';
import type { TfliteMapping } from './tfliteTypes.js';
import type { OnnxMapping } from './onnxTypes.js';
import * as W from './weighted.js';
import { irActivation, type Int8WeightedQ, type WeightedFlavour } from './int8.js';
import { TFLITE_2_21_ROUNDING } from '../fixedpoint/tflite.js';
import type { WeightedLayer, WeightedQ } from './weighted.js';

/** Window sizes along (H, W), depth multiplier M and padding: what defines a depthwise kernel. */
export type DwSpec = DwWindow;

/** A depthwise kernel on a concrete input: sizes, paddings before, output sizes. */
export interface DwGeometry extends DwSpec {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  /** Output channels C * M. */
  OC: number;
  padTop: number;
  padLeft: number;
}

/** [H, W, C] of a rank-3 tensor, [1, T, C] of a sequence. */
export function planeOf(shape: Shape): [number, number, number] {
  return shape.length === 3 ? [shape[0], shape[1], shape[2]] : [1, shape[0], shape[1]];
}

export function dwGeometry(s: DwSpec, inShape: Shape): DwGeometry {
  const [H, W, C] = planeOf(inShape);
  return {
    ...s,
    H,
    W,
    C,
    OH: outLength(H, s.kh, s.sh, s.padding, s.dh),
    OW: outLength(W, s.kw, s.sw, s.padding, s.dw),
    OC: C * s.mult,
    padTop: padBefore(H, s.kh, s.sh, s.padding, s.dh),
    padLeft: padBefore(W, s.kw, s.sw, s.padding, s.dw),
  };
}

/**
 * The depthwise loop of both the float forward and the integer reference: output channel by output
 * channel (rows come in order o = 0, 1, ...), taps outside the input skipped (they are zeros).
 */
export function depthwiseLoop<A extends Float32Array | Int8Array>(
  g: DwGeometry,
  x: ArrayLike<number>,
  row: (o: number) => ArrayLike<number>,
  start: (o: number) => number,
  finish: (o: number, acc: number) => number,
  out: A,
): A {
  for (let o = 0; o < g.OC; o++) {
    const w = row(o);
    const c = Math.floor(o / g.mult);
    const acc0 = start(o);
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++) {
        let acc = acc0;
        for (let i = 0; i < g.kh; i++) {
          const y = oy * g.sh + i * g.dh - g.padTop;
          if (y < 0 || y >= g.H) continue;
          for (let j = 0; j < g.kw; j++) {
            const xx = ox * g.sw + j * g.dw - g.padLeft;
            if (xx < 0 || xx >= g.W) continue;
            acc += x[(y * g.W + xx) * g.C + c] * w[i * g.kw + j];
          }
        }
        out[(oy * g.OW + ox) * g.OC + o] = finish(o, acc);
      }
  }
  return out;
}

/** Float rows: row o = c*M + m holds the kh*kw taps of w[., ., c, m] (tap index i*kw + j). */
export function depthwiseRows(taps: number, OC: number, kernel: Float32Array) {
  const data = new Float32Array(OC * taps);
  for (let o = 0; o < OC; o++) for (let t = 0; t < taps; t++) data[o * taps + t] = kernel[t * OC + o];
  return { rows: OC, rowLength: taps, data };
}

/** A float depthwise layer as its kind declares it. */
export type DepthwiseLayer = WeightedLayer;

/** The quantized fields both kinds share: the 2D geometry (a 1D layer has kernel [1, k]). */
export interface QDepthwise extends WeightedQ {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: ConvPadding;
  /** Zero padding before the first row and the first column. */
  pad: [number, number];
  depthMultiplier: number;
}

const pairSchema = z.tuple([posInt, posInt]);

function specOfQ(q: W.WeightedFields<QDepthwise>): DwSpec {
  return {
    kh: q.kernel[0],
    kw: q.kernel[1],
    sh: q.strides[0],
    sw: q.strides[1],
    dh: q.dilation[0],
    dw: q.dilation[1],
    mult: q.depthMultiplier,
    padding: q.padding,
  };
}

/** What distinguishes DepthwiseConv1D from DepthwiseConv2D. */
export interface DepthwiseKind<L extends DepthwiseLayer> {
  kind: L['kind'];
  title: string;
  rank: 2 | 3;
  spec(l: L): DwSpec;
  /** The float layer of a geometry (quantized layers go back to the IR through it). */
  layer(base: { kind: L['kind']; name: string; inputs?: readonly string[] }, s: DwSpec, relu: boolean): L;
  paddings: readonly string[];
  tfjsLayer(l: L): tf.layers.Layer;
  /** The kind's TFLite mapping (DepthwiseConv2D maps DEPTHWISE_CONV_2D). */
  tflite?: TfliteMapping;
  /** The kind's ONNX mapping (a Conv whose group is its input channels). */
  onnx?: OnnxMapping;
}

/** Architecture-file fields both kinds share. */
export const dwArchFields = {
  name: archName,
  depthMultiplier: posInt.default(1),
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
};

/** Keras's DepthwiseConv kernel [kh, kw, C, M] (or [k, C, M]) and bias [C*M]. */
function dwParams(l: DepthwiseLayer, s: DwSpec, C: number, rank: 2 | 3): ParamSpec[] {
  const OC = C * s.mult;
  const kernelShape = rank === 3 ? [s.kh, s.kw, C, s.mult] : [s.kw, C, s.mult];
  const specs: ParamSpec[] = [
    {
      key: 'kernel',
      shape: kernelShape,
      init: { glorot: [s.kh * s.kw * C, s.kh * s.kw * OC] },
      trainable: true,
      kerasName: 'depthwise_kernel',
    },
  ];
  if (l.useBias) specs.push({ key: 'bias', shape: [OC], init: 'zeros', trainable: true, kerasName: 'bias' });
  return specs;
}

/** tfjs forward of a depthwise conv on [N, H, W, C] (a sequence is [N, 1, T, C]). */
export function depthwiseTf(x: tf.Tensor4D, kernel: tf.Tensor4D, s: DwSpec, custom: boolean): tf.Tensor4D {
  return depthwiseCustomGrad(x, kernel, s, custom);
}

/** Keras depth multiplier, dilation and channels-last checks both kinds share. */
export function dwKerasCommon(l: KerasLayer, k: KerasContext) {
  k.checkChannelsLast(l);
  const act = k.activation(l, ['relu', 'linear']);
  if (act.after.length) k.unsupported(l, 'a fused softmax');
  return {
    mult: Number(l.config.depth_multiplier ?? 1),
    activation: act.activation as 'linear' | 'relu',
    useBias: (l.config.use_bias ?? true) as boolean,
  };
}

/** The DwSpec of a 1D layer (depthwise or separable): the 2D kernel with H = 1. */
export function dwSpec1d(l: Window1D & { depthMultiplier: number }): DwSpec {
  return {
    kh: 1,
    kw: l.kernelSize,
    sh: 1,
    sw: l.stride,
    dh: 1,
    dw: l.dilation,
    mult: l.depthMultiplier,
    padding: l.padding,
  };
}

/** The DwSpec of a 2D layer (depthwise or separable). */
export function dwSpec2d(l: Window2D & { depthMultiplier: number }): DwSpec {
  return {
    kh: l.kernelSize[0],
    kw: l.kernelSize[1],
    sh: l.strides[0],
    sw: l.strides[1],
    dh: l.dilation[0],
    dw: l.dilation[1],
    mult: l.depthMultiplier,
    padding: l.padding,
  };
}

/** Keras window of a 1D depthwise or separable layer (padding one of `paddings`). */
export function window1dKeras(
  l: KerasLayer,
  k: KerasContext,
  paddings: readonly string[] = paddings1d,
): Window1D {
  const padding = String(l.config.padding ?? 'valid');
  if (!paddings.includes(padding)) k.unsupported(l, `padding '${padding}'`);
  return {
    kernelSize: k.one(l.config.kernel_size),
    stride: k.one(l.config.strides ?? 1),
    dilation: k.one(l.config.dilation_rate ?? 1),
    padding: padding as ConvPadding,
  };
}

/** Keras window of a 2D depthwise or separable layer: sizes an int or a list of two. */
export function window2dKeras(l: KerasLayer, k: KerasContext): Window2D {
  const two = (v: unknown): Pair => {
    const a = Array.isArray(v) ? v.map(Number) : [Number(v), Number(v)];
    if (a.length !== 2) k.unsupported(l, `size ${JSON.stringify(v)}`);
    return [a[0], a[1]];
  };
  return {
    kernelSize: two(l.config.kernel_size),
    strides: two(l.config.strides ?? 1),
    dilation: two(l.config.dilation_rate ?? 1),
    padding: k.padding(l),
  };
}

/** The architecture-file schema of a depthwise or separable kind: `fields`, then its window's. */
export function windowArchSchema(kind: string, rank: 2 | 3, fields: z.ZodRawShape) {
  return z.strictObject({
    type: z.literal(kind),
    ...fields,
    ...(rank === 3 ? window2dArchFields : window1dArchFields),
  });
}

/** The window of a parsed architecture-file entry of a depthwise or separable kind. */
export function archWindow(rank: 2 | 3, a: Record<string, unknown>): Window1D | Window2D {
  return rank === 3 ? window2dLayer(a as unknown as Window2D) : window1dLayer(a as unknown as Window1D);
}

/** The window of a Keras depthwise or separable layer. */
export function kerasWindow(
  rank: 2 | 3,
  l: KerasLayer,
  k: KerasContext,
  paddings?: readonly string[],
): Window1D | Window2D {
  return rank === 3 ? window2dKeras(l, k) : window1dKeras(l, k, paddings);
}

/** Output length of a 1D depthwise window over T samples (Keras: 'same' and 'causal' give ceil(T / stride)). */
export function dwOutLength1d(T: number, s: DwSpec): number {
  return s.padding === 'valid' ? Math.floor((T - (s.kw - 1) * s.dw - 1) / s.sw) + 1 : Math.ceil(T / s.sw);
}

/** Keras config of a 1D depthwise or separable layer's window, multiplier and activation (model.json). */
export function keras1dConfig(
  l: Window1D & WeightedLayer & { depthMultiplier: number },
): tf.serialization.ConfigDict {
  return {
    kernel_size: [l.kernelSize],
    strides: [l.stride],
    dilation_rate: [l.dilation],
    padding: l.padding,
    depth_multiplier: l.depthMultiplier,
    activation: l.activation,
    use_bias: l.useBias,
    data_format: 'channels_last',
  };
}

/** The bias (when there is one) and the fused ReLU of a 1D tfjs layer's output. */
export function biasRelu(y: tf.Tensor, bias: tf.LayerVariable | undefined, activation: string): tf.Tensor {
  const z2 = bias ? tf.add(y, bias.read()) : y;
  return activation === 'relu' ? tf.relu(z2) : z2;
}

/** Pruning: a depthwise conv passes channels through; it keeps the kernel and bias of the kept ones. */
function keepInputs(s: DwSpec, p: LayerParams, keep: number[], C: number): LayerParams {
  const taps = s.kh * s.kw;
  const M = s.mult;
  const out: LayerParams = { ...p, kernel: W.keepKernelInputs(p.kernel!, taps, C, keep, M) };
  if (p.bias)
    out.bias = Float32Array.from(
      { length: keep.length * M },
      (_, i) => p.bias![keep[(i / M) | 0] * M + (i % M)],
    );
  return out;
}

/** The channels after a depthwise conv of the kept input channels: each with its M outputs. */
export function multipliedChannels(keep: number[], M: number): number[] {
  return keep.flatMap((c) => Array.from({ length: M }, (_, m) => c * M + m));
}

/** A depthwise layer's output channels follow its input (C * M): folding reads the inferred shape. */
function channelsUnknown(): number {
  throw new Error('the output channels of a depthwise conv depend on its input; read the inferred shape');
}

/** TFLite's DepthwiseConv2D kernel: per-channel multipliers, rounded twice (TFLite 2.21). */
const DW_FLAVOUR: WeightedFlavour = { fullyConnected: false, rounding: TFLITE_2_21_ROUNDING.depthwiseConv2d };

/** Builds a depthwise operator module from what distinguishes its kind. */
export function depthwiseOp<L extends DepthwiseLayer, Q extends QDepthwise>(
  kd: DepthwiseKind<L>,
): OpModule<L, Q> {
  const { kind } = kd;
  const geometryOf = (l: L, info: { inShape: Shape }) => dwGeometry(kd.spec(l), info.inShape);
  const parts = W.weightedParts<L, Q>({
    kind,
    schemaFields: {
      kernel: pairSchema,
      strides: pairSchema,
      dilation: pairSchema,
      padding: z.enum(kd.paddings as [string, ...string[]]),
      pad: z.tuple([natInt, natInt]),
      depthMultiplier: posInt,
    },
    outChannels: channelsUnknown,
    rows: (l, info, kernel) => {
      const g = geometryOf(l, info);
      return depthwiseRows(g.kh * g.kw, g.OC, kernel);
    },
    fields: (l, ctx) => {
      const g = geometryOf(l, ctx.info);
      return {
        kind,
        kernel: [g.kh, g.kw],
        strides: [g.sh, g.sw],
        dilation: [g.dh, g.dw],
        padding: g.padding,
        pad: [g.padTop, g.padLeft],
        depthMultiplier: g.mult,
      } as unknown as Omit<Q, keyof WeightedQ>;
    },
    geometry: () => {
      throw new Error('a depthwise conv has its own kernel plan');
    },
    view: () => ({}),
  });
  return {
    kind,
    title: kd.title,
    ...(kd.tflite ? { tflite: kd.tflite } : {}),
    ...(kd.onnx ? { onnx: kd.onnx } : {}),
    infer(l, [x], fail) {
      if (x.flat || x.shape.length !== kd.rank)
        fail(`a ${kd.title} needs a rank-${kd.rank} tensor, got [${x.shape.join(', ')}]`);
      const s = kd.spec(l);
      if ([s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.mult].some((v) => !Number.isInteger(v) || v < 1))
        fail('sizes, strides, dilations and the depth multiplier must be integers >= 1');
      const g = dwGeometry(s, x.shape);
      if (g.OH < 1 || g.OW < 1) fail('the kernel is larger than the input');
      const shape = kd.rank === 3 ? [g.OH, g.OW, g.OC] : [g.OW, g.OC];
      const taps = g.kh * g.kw;
      return {
        shape,
        flat: false,
        params: taps * g.OC + (l.useBias ? g.OC : 0),
        macs: g.OH * g.OW * g.OC * taps,
      };
    },
    arch: {
      schema: windowArchSchema(kd.kind, kd.rank, dwArchFields),
      toLayer: (s, { name }) => {
        const a = s as z.output<z.ZodObject<typeof dwArchFields>>;
        const layer = {
          kind: kd.kind,
          name,
          ...archWindow(kd.rank, s),
          depthMultiplier: a.depthMultiplier,
          activation: a.activation,
          useBias: a.useBias,
        };
        return layer as unknown as L;
      },
    },
    keras: {
      classNames: [kd.title],
      fromKeras(l, k) {
        const c = dwKerasCommon(l, k);
        const layer = {
          kind: kd.kind,
          name: l.name,
          ...kerasWindow(kd.rank, l, k, kd.paddings),
          depthMultiplier: c.mult,
          activation: c.activation,
          useBias: c.useBias,
        };
        return { layers: [layer as unknown as L] };
      },
    },
    params: (l, info) => dwParams(l, kd.spec(l), planeOf(info.inShape)[2], kd.rank),
    tfjs: {
      layer: (l) => kd.tfjsLayer(l),
      forward(l, [x], ctx: TfContext) {
        const s = kd.spec(l);
        const k = ctx.param('kernel')!;
        const C = x.shape[x.rank - 1];
        const x4 = (kd.rank === 3 ? x : x.expandDims(1)) as tf.Tensor4D;
        const k4 = k.reshape([s.kh, s.kw, C, s.mult]) as tf.Tensor4D;
        const y = depthwiseTf(x4, k4, s, ctx.customGrad);
        return W.biasAndActivation(kd.rank === 3 ? y : y.squeeze([1]), l, ctx);
      },
    },
    floatForward(l, info: NodeInfo, p, [x]) {
      const g = geometryOf(l, info);
      const r = depthwiseRows(g.kh * g.kw, g.OC, p.kernel!);
      const taps = g.kh * g.kw;
      return depthwiseLoop(
        g,
        x,
        (o) => r.data.subarray(o * taps, (o + 1) * taps),
        (o) => (p.bias ? p.bias[o] : 0),
        (_o, acc) => W.activate(acc, l.activation),
        new Float32Array(g.OH * g.OW * g.OC),
      );
    },
    pruning: {
      keepInputs: (l, p, keep, C) => {
        const s = kd.spec(l);
        return {
          params: p.kernel ? keepInputs(s, p, keep, C) : p,
          stop: false,
          ...(s.mult > 1 ? { passOn: { keep: multipliedChannels(keep, s.mult), channels: C * s.mult } } : {}),
        };
      },
    },
    ...parts.stages,
    quantized: {
      toIr: (q) =>
        kd.layer({ kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) }, specOfQ(q), q.relu),
      ...parts.quantized,
      check(q, { info, inFracs, fail }) {
        const g = dwGeometry(specOfQ(q), info.inShape);
        W.checkWeighted(q, g.OC, g.kh * g.kw, inFracs[0], fail);
        if (q.pad[0] !== g.padTop || q.pad[1] !== g.padLeft)
          fail(`pad [${q.pad.join(', ')}], expected [${g.padTop}, ${g.padLeft}] for '${q.padding}'`);
      },
      reference(q, [x], row) {
        const g = dwGeometry(specOfQ(q), q.inShape);
        const shifts = Array.from({ length: g.OC }, (_, o) =>
          requantShift(q.inFrac, W.wFracOf(q, o), q.outFrac),
        );
        return depthwiseLoop(
          g,
          x,
          row,
          (o) => q.bias[o],
          (o, acc) => requantize(acc, shifts[o], q.relu),
          new Int8Array(g.OH * g.OW * g.OC),
        );
      },
    },
    codegen: {
      alias: 'none',
      prepare: (q, opts) => prepareDepthwise(q, kd.title, opts.small),
      view: (q, base, ctx) =>
        depthwiseView(
          q,
          base,
          ctx.prepared as DwFacts | W.SmallFacts,
          requantView(q, (o) => W.wFracOf(q, o)),
        ),
    },
    int8: {
      ...W.weightedInt8<L, QDepthwise8>({
        spec: parts.spec,
        flavour: DW_FLAVOUR,
        loop: (q, x, row, start, finish) => {
          const g = dwGeometry(specOfQ(q), q.inShape);
          return depthwiseLoop(g, x, row, start, finish, new Int8Array(g.OH * g.OW * g.OC));
        },
        outs: (q) => dwGeometry(specOfQ(q), q.inShape).OC,
        rowLength: (q) => q.kernel[0] * q.kernel[1],
        toIr: (q) =>
          kd.layer(
            { kind, name: q.name, ...(q.inputs ? { inputs: q.inputs } : {}) },
            specOfQ(q),
            irActivation(q) === 'relu',
          ),
        check(q, { info, fail }) {
          const g = dwGeometry(specOfQ(q), info.inShape);
          if (q.pad[0] !== g.padTop || q.pad[1] !== g.padLeft)
            fail(`pad [${q.pad.join(', ')}], expected [${g.padTop}, ${g.padLeft}] for '${q.padding}'`);
        },
      }),
      codegen: {
        alias: 'none',
        prepare: (q: QDepthwise8, opts) => prepareDepthwise(q, kd.title, opts.small),
        view: (q: QDepthwise8, base, ctx) =>
          depthwiseView(
            q,
            base,
            ctx.prepared as DwFacts | W.SmallFacts,
            int8RequantView(q, dwGeometry(specOfQ(q), q.inShape).OC, DW_FLAVOUR),
          ),
      },
    },
  };
}

/** A depthwise layer under TFLite's int8 scheme (DEPTHWISE_CONV_2D). */
export type QDepthwise8 = W.WeightedFields<QDepthwise> & Int8WeightedQ;

// ---------------------------------------------------------------------------------------------
// C generation (templates/kernels/depthwise.c.hbs).

/**
 * Scratch layout: four zero-padded int16 planes (one group of four input channels, copied together
 * from the channels-last input), decoded words of four output channels, this channel's tap pairs,
 * the decode LUT.
 */
interface DwFacts {
  g: DwGeometry;
  /** Padded plane: rows, columns (room for the zero-weight tap after an odd row). */
  PH: number;
  PW: number;
  planeAt: number;
  wbAt: number;
  wrAt: number;
  lutAt: number;
  lut: { kb: number; checked: boolean } | null;
  bytes: number;
}

/** What the C generation reads of a depthwise layer of either scheme: geometry and coded weights. */
type DwCodegenQ = W.WeightedFields<QDepthwise> & Pick<QDepthwise, 'weights'>;

/**
 * The kernel's facts before memory planning; with `small` the small-RAM kernel
 * (templates/kernels/small.c.hbs with a depth multiplier), which needs no scratch.
 */
function prepareDepthwise(q: DwCodegenQ, title: string, small: boolean): Prepared {
  const g = dwGeometry(specOfQ(q), q.inShape);
  if (small) return { scratchBytes: 0, data: { small: smallDepthwise(g, q, title) }, small: true };
  const qp = Math.ceil(g.kw / 2);
  const PH = Math.max(g.H + g.padTop, (g.OH - 1) * g.sh + (g.kh - 1) * g.dh + 1);
  // Even, so that every plane row starts 4-byte aligned.
  const PW = alignUp(Math.max(g.W + g.padLeft, (g.OW - 1) * g.sw + (2 * qp - 1) * g.dw + 1), 2);
  const taps = g.kh * g.kw;
  const w = weightsView(q.weights);
  const values = w.packed ? new Int8Array(0) : decodeWeights(q.weights).values;
  const lut = w.table ? chooseLut(q.weights, values) : null;
  const planeAt = 0;
  const wbAt = isDirect(g) ? 0 : alignUp(2 * 4 * PH * PW);
  const wrAt = wbAt + 16 * Math.ceil(taps / 2);
  // The unrolled paths keep the tap pairs in registers: no room for them.
  const lutAt = wrAt + (isDirect(g) || (g.dw === 1 && g.sw === 1) ? 0 : 4 * g.kh * qp);
  const bytes = lutAt + (lut ? 4 * 2 ** lut.kb : 0);
  return { scratchBytes: bytes, data: { g, PH, PW, planeAt, wbAt, wrAt, lutAt, lut, bytes } };
}

/**
 * The unrolled body of a block of nbv x nbh outputs (rows oy.., columns ox..) at unit stride and
 * dilation along W: for each plane row R and pair offset j, one load of the int16 pair at (R, j) and
 * the SMLADs of every output (r, c) that uses it as the pair q of its kernel row i (R = r * sh + i * dh,
 * j = c + 2q), with tap-pair word k = i * qp + q and accumulator a = r * nbh + c.
 */
function blockSteps(g: DwGeometry, PW: number, nbv: number, nbh: number) {
  const qp = Math.ceil(g.kw / 2);
  const byLoad = new Map<number, { a: number; k: number }[]>();
  for (let r = 0; r < nbv; r++)
    for (let c = 0; c < nbh; c++)
      for (let i = 0; i < g.kh; i++)
        for (let q = 0; q < qp; q++) {
          const off = (r * g.sh + i * g.dh) * PW + c + 2 * q;
          if (!byLoad.has(off)) byLoad.set(off, []);
          byLoad.get(off)!.push({ a: r * nbh + c, k: i * qp + q });
        }
  const steps = [...byLoad.entries()].sort((x, y) => x[0] - y[0]).map(([off, macs]) => ({ off, macs }));
  // The step after which each output has all its taps (where `early` stores it).
  const last = new Map<number, number>();
  steps.forEach((st, i) => st.macs.forEach((m) => last.set(m.a, i)));
  return steps.map((st, i) => ({
    ...st,
    done: [...last.entries()]
      .filter(([, at]) => at === i)
      .map(([a]) => ({ a, off: Math.floor(a / nbh) * g.OW * g.OC + (a % nbh) * g.OC })),
  }));
}

/**
 * Blocks of outputs: four rows of one column when the kernel has several rows (the loads of the
 * overlapping rows are shared without extra pair offsets), else four columns of one row.
 */
function unitStrideView(g: DwGeometry, PW: number, early: boolean) {
  // Early stores keep at most kh accumulators live: taller blocks (five or six rows) then cost no
  // registers, share more loads, and avoid the one-output tail when they divide the rows.
  const tall = early ? [5, 6].find((n) => g.OH % 4 !== 0 && g.OH % n === 0) : undefined;
  const [nbv, nbh] = g.kh > 1 && g.OH >= 4 ? [tall ?? 4, 1] : [1, 4];
  const outs = Array.from({ length: nbv * nbh }, (_, a) => ({
    a,
    off: Math.floor(a / nbh) * g.OW * g.OC + (a % nbh) * g.OC,
  }));
  return {
    nbv,
    nbh,
    outs,
    blockSteps: blockSteps(g, PW, nbv, nbh),
    /**
     * Each output of a block is requantized and stored right after its last tap (int8: the longer
     * requantization then holds fewer accumulators live), else all at the end of the block.
     */
    early,
    oneSteps: blockSteps(g, PW, 1, 1),
    colTail: nbh > 1 && g.OW % nbh !== 0,
    rowTail: nbv > 1 && g.OH % nbv !== 0,
  };
}

/** One-row kernels at unit stride and dilation along W read the int8 input directly (no planes). */
export function isDirect(g: DwGeometry): boolean {
  return g.kh === 1 && g.sw === 1 && g.dw === 1;
}

/** One step of a direct block: load a value, pack a pair, multiply-accumulate or store an output. */
type DirectStep =
  | { load: true; v: number; zero: boolean; off: number }
  | { pack: true; p: number; lo: number; hi: number }
  | { mac: true; a: number; src: string; k: number; init: boolean }
  | { store: true; a: number; off: number; skip: boolean };

/**
 * The direct path's blocks of four outputs (columns 4b..4b+3 of one row). Output u of a block takes
 * its kernel pair q from the input pair at block offset i = u + 2q: packed as p{i} when both taps are
 * used, the raw value v{i} when the pair's high tap weight is zero (the last of an odd kernel). Every
 * block after the first inherits the pairs and values at offsets >= 4 of the one before (renamed
 * i - 4), so in steady state each block loads four values and packs at most four pairs.
 */
function directPlan(g: DwGeometry) {
  const qp = Math.ceil(g.kw / 2);
  const full = new Set<number>();
  const lo = new Set<number>();
  for (let u = 0; u < 4; u++) for (let q = 0; q < qp; q++) (2 * q + 1 < g.kw ? full : lo).add(u + 2 * q);
  for (const i of full) lo.delete(i);
  const valuesOf = (pairs: number[]) => new Set([...pairs.flatMap((i) => [i, i + 1]), ...lo]);
  const built = [...full].filter((i) => !full.has(i + 4));
  const steadyValues = valuesOf(built);
  const inherited = [...steadyValues].filter((j) => steadyValues.has(j + 4));
  const loaded = [...steadyValues].filter((j) => !steadyValues.has(j + 4)).sort((a, b) => a - b);
  const firstValues = valuesOf([...full]);
  /** Steps of block b; `first` packs everything itself, `guard` makes edge loads zeros and skips stores. */
  const steps = (b: number, first: boolean, guard: boolean): DirectStep[] => {
    const have = new Set<string>(first ? [] : [...inherited.map((j) => `v${j}`)]);
    if (!first) for (const i of full) if (full.has(i + 4)) have.add(`p${i}`);
    const out: DirectStep[] = [];
    const value = (j: number) => {
      if (have.has(`v${j}`)) return;
      have.add(`v${j}`);
      const t = 4 * b - g.padLeft + j;
      out.push({ load: true, v: j, zero: guard && (t < 0 || t >= g.W), off: (guard ? t : j) * g.C });
    };
    const started = new Set<number>();
    const last = Math.max(...full, ...lo);
    for (let i = 0; i <= last; i++) {
      if (full.has(i) && !have.has(`p${i}`)) {
        value(i);
        value(i + 1);
        have.add(`p${i}`);
        out.push({ pack: true, p: i, lo: i, hi: i + 1 });
      } else if (lo.has(i)) value(i);
      for (let u = 0; u < 4; u++) {
        const q = (i - u) / 2;
        if (!Number.isInteger(q) || q < 0 || q >= qp) continue;
        out.push({ mac: true, a: u, src: full.has(i) ? `p${i}` : `v${i}`, k: q, init: !started.has(u) });
        started.add(u);
        if (q === qp - 1)
          out.push({
            store: true,
            a: u,
            off: (guard ? 4 * b + u : u) * g.OC,
            skip: guard && 4 * b + u >= g.OW,
          });
      }
    }
    // Loads a block makes for the next one (values it does not use itself) come last.
    if (!first) for (const j of loaded) value(j);
    else for (const j of firstValues) value(j);
    return out;
  };
  // Ascending, so that p0 = p4 reads p4 before p4 = p8 overwrites it.
  const carries = [
    ...[...full].filter((i) => full.has(i + 4)).map((i) => ({ to: `p${i}`, from: `p${i + 4}`, i })),
    ...inherited.map((j) => ({ to: `v${j}`, from: `v${j + 4}`, i: j + 0.5 })),
  ].sort((a, b) => a.i - b.i);
  const blocks = Math.ceil(g.OW / 4);
  const inside = (b: number) =>
    b >= 1 &&
    4 * b + 3 < g.OW &&
    loaded.every((j) => 4 * b - g.padLeft + j >= 0 && 4 * b - g.padLeft + j < g.W);
  const loopBlocks = Array.from({ length: blocks }, (_, b) => b).filter(inside);
  const [from, to] = loopBlocks.length ? [loopBlocks[0], loopBlocks[loopBlocks.length - 1] + 1] : [1, 1];
  const edge = (b: number) => ({ steps: steps(b, b === 0, true), carries: b + 1 < blocks ? carries : [] });
  const vars = new Set<string>([...firstValues].map((j) => `v${j}`));
  for (const i of full) vars.add(`p${i}`);
  return {
    vars: [...vars],
    words: Array.from({ length: qp }, (_, k) => ({ k, mask: 2 * k + 1 === g.kw })),
    head: Array.from({ length: Math.min(from, blocks) }, (_, b) => edge(b)),
    loop:
      from < to
        ? {
            from,
            to,
            x: (4 * from - g.padLeft) * g.C,
            y: 4 * from * g.OC,
            steps: steps(from, false, false),
            carries,
            xStep: 4 * g.C,
            yStep: 4 * g.OC,
          }
        : null,
    tail: Array.from({ length: blocks - Math.max(to, 1) }, (_, k) => edge(Math.max(to, 1) + k)),
  };
}

/**
 * Where tap pair k = i * qp + q (taps t0 = i * kw + 2q and t0 + 1 of the row) lies in the decoded words
 * (word w holds taps 2w, 2w + 1): a whole word, its low half alone (the last pair of an odd row), the
 * high half of one and the low half of the next, or a high half alone.
 */
function tapWords(g: DwGeometry) {
  const qp = Math.ceil(g.kw / 2);
  return Array.from({ length: g.kh * qp }, (_, k) => {
    const t0 = Math.floor(k / qp) * g.kw + 2 * (k % qp);
    const both = 2 * (k % qp) + 1 < g.kw;
    const odd = t0 % 2 === 1;
    return {
      k,
      w0: t0 >> 1,
      w1: (t0 + 1) >> 1,
      whole: !odd && both,
      low: !odd && !both,
      straddle: odd && both,
      high: odd && !both,
    };
  });
}

/**
 * TFLite's int8 scheme on the direct path: acc = bias + sum over the taps inside the input of
 * (x + inOffset) * w is computed as (bias + inOffset * sum of the row) + sum over every tap of x' * w,
 * x' the input value inside and the input zero point (-inOffset) in the padding, whose term cancels
 * the bias's share of that tap. The input is then read as it is, as in the pow2 scheme.
 */
function foldedOffsetBias(q: DwCodegenQ, requant: RequantView, inOffset: number, OC: number): RequantView {
  const values = decodeWeights(q.weights).values;
  const taps = q.weights.rowLength;
  const bias = Int32Array.from(requant.bias, (b, o) => {
    let sum = 0;
    for (let t = 0; t < taps; t++) sum += values[o * taps + t];
    return b + inOffset * sum;
  });
  const biasArray = OC > 1 && bias.some((b) => b !== 0);
  return {
    ...requant,
    bias,
    biasArray,
    biasConst: OC === 1 ? bias[0] : 0,
    biasBytes: biasArray ? 4 * OC : 0,
  };
}

/** The small-RAM kernel's view: the depthwise geometry as its grid, one channel per row. */
function smallDepthwise(g: DwGeometry, q: DwCodegenQ, title: string): SmallView {
  const { H, W: Wd, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW } = g;
  const grid = { H, W: Wd, kh, kw, sh, sw, dh, dw, padTop, padLeft, OH, OW };
  return smallGridView(grid, g.C, weightsView(q.weights), title, g.mult);
}

function depthwiseView(
  q: DwCodegenQ,
  base: LayerViewBase,
  facts: DwFacts | W.SmallFacts,
  rq: RequantView,
): LayerView {
  const w = weightsView(q.weights);
  // The small kernel reads the input as it is: the unfolded bias and the input offset per value.
  if ('small' in facts) return W.smallWeightedView(base, w, facts.small, rq);
  const f = facts;
  const g = f.g;
  const taps = g.kh * g.kw;
  /** Scheme 'tflite-int8': -(input zero point), added to every input value (0: the pow2 scheme). */
  const inOffset = rq.int8?.inOffset ?? 0;
  const folded = inOffset !== 0 && isDirect(g);
  const requant = folded ? foldedOffsetBias(q, rq, inOffset, g.OC) : rq;
  const strided = rq.int8 !== null && !isDirect(g) && g.dw === 1 && g.sw > 1;
  const at = base.scratchAt;
  const decode = {
    direct8: w.direct,
    packed: w.packed && !w.direct,
    huffman: w.huffman,
    rle: w.rle,
    stream: !w.direct,
    lut: f.lut !== null,
    kb: f.lut?.kb ?? 0,
    checked: f.lut?.checked ?? false,
  };
  const uses: UsedFunction[] = [];
  if (decode.stream) uses.push('bits');
  if (decode.direct8) uses.push('packed', 'expand8');
  if (decode.packed) uses.push('packed', 'packedRows');
  if (decode.lut) uses.push('huffToken', 'huffLut');
  if (decode.huffman) uses.push('huffRows', decode.checked ? 'huffRowsChecked' : 'huffRowsFast');
  if (decode.rle) uses.push('rle', 'rleRows');
  const blocks = Math.ceil(g.OC / 4);
  return {
    ...base,
    // The flash data template sizes the bias array by outC: the channels, whatever the rank.
    outC: g.OC,
    weights: w,
    requant,
    decode,
    uses,
    hasStatus: !w.direct,
    weightBytes: w.declaredBytes + requant.biasBytes,
    tableBytes: 2 * (w.table?.declaredEntries ?? 0) + requant.shiftBytes + (requant.int8?.tableBytes ?? 0),
    dw: {
      ...g,
      taps,
      qp: Math.ceil(g.kw / 2),
      pairs: Math.ceil(taps / 2),
      PH: f.PH,
      PW: f.PW,
      planeAt: (at + f.planeAt) / 2,
      planeSize: f.PH * f.PW,
      wbAt: (at + f.wbAt) / 4,
      wrAt: (at + f.wrAt) / 4,
      lutAt: (at + f.lutAt) / 4,
      blocks,
      lastN: g.OC - 4 * (blocks - 1),
      partial: g.OC % 4 !== 0,
      rowStep: g.dh * f.PW,
      /** Tap pairs are adjacent in the plane: one (unaligned) 32-bit load each. */
      dense: g.dw === 1,
      /** Unit stride and dilation along W: blocks of outputs share their pair loads. */
      unit: !isDirect(g) && g.dw === 1 && g.sw === 1,
      /** One-row kernel at unit stride and dilation along W: int8 input read directly, blocks of four. */
      direct: isDirect(g) ? directPlan(g) : null,
      ...unitStrideView(g, f.PW, rq.int8 !== null),
      /** int8, strided along W without dilation: one output at a time, the tap pairs in registers. */
      strided,
      /** The plane paths with the tap pairs in registers: blocks of outputs, or one at a time. */
      planeTaps: (!isDirect(g) && g.dw === 1 && g.sw === 1) || strided,
      /** The unrolled paths cut the tap pairs from the decoded words at compile-time places. */
      fixedWords: isDirect(g) || (g.dw === 1 && g.sw === 1) || strided,
      tapWords: tapWords(g),
      groups: Math.ceil(g.C / 4),
      fullGroups: Math.floor(g.C / 4),
      wPairs: Math.floor(g.W / 2),
      /** int8: the pair columns of a short row copied without a loop (else null: the loop). */
      copyCols:
        inOffset !== 0 && !folded && g.W <= 9
          ? Array.from({ length: Math.floor(g.W / 2) }, (_, i) => 2 * i)
          : null,
      wOdd: g.W % 2 === 1,
      inSize: g.H * g.W * g.C,
      /** Scheme 'tflite-int8' on the plane paths: the planes hold x + inOffset (the padding stays 0). */
      offset: inOffset !== 0 && !folded,
      inOffset,
      /** SXTAB16's two 16-bit lanes of inOffset, as an int32. */
      offsetPair: (inOffset & 0xffff) | (inOffset << 16),
      /** The direct path's padding value: 0, or the input zero point when the bias holds the offset. */
      padValue: folded ? -inOffset : 0,
    },
  };
}
