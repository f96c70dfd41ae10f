// What the operator modules' TFLite mappings share: the field ids of the builtin options tables they
// read (TFLite schema.fbs: a table's fields are numbered in declaration order), the Padding enum,
// and the conversion of TFLite weight layouts to the tfjs/Keras layouts the IR keeps.
import type { Layer, Padding } from '../graph/types.js';
import { reshapeLayer } from './reshape.js';
import type { TfliteConstant, TfliteMapping, TfliteOpContext } from './tfliteTypes.js';

/** Conv2DOptions and DepthwiseConv2DOptions (depth_multiplier sits between stride_h and the activation). */
export const CONV_OPTIONS = { padding: 0, strideW: 1, strideH: 2, activation: 3, dilationW: 4, dilationH: 5 };
export const DEPTHWISE_OPTIONS = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  depthMultiplier: 3,
  activation: 4,
  dilationW: 5,
  dilationH: 6,
};
/** Pool2DOptions. */
export const POOL_OPTIONS = { padding: 0, strideW: 1, strideH: 2, filterW: 3, filterH: 4, activation: 5 };
/** FullyConnectedOptions. */
export const FC_OPTIONS = { activation: 0, weightsFormat: 1, keepNumDims: 2 };
/** SoftmaxOptions, LeakyReluOptions, AddOptions, ConcatenationOptions, ReducerOptions. */
export const SOFTMAX_OPTIONS = { beta: 0 };
export const LEAKY_RELU_OPTIONS = { alpha: 0 };
export const ADD_OPTIONS = { activation: 0 };
export const CONCAT_OPTIONS = { axis: 0, activation: 1 };
export const REDUCER_OPTIONS = { keepDims: 0 };

/** TFLite Padding enum: SAME = 0, VALID = 1 (TFLite 'SAME' is Keras 'same': the extra zero goes after). */
export function tflitePadding(ctx: TfliteOpContext, field: number): Padding {
  const p = ctx.options.byte(field, 0);
  if (p === 0) return 'same';
  if (p === 1) return 'valid';
  return ctx.unsupported(`padding ${p}`);
}

/** A constant input that must be there (filters, weights). */
export function requiredConstant(ctx: TfliteOpContext, slot: number, what: string): TfliteConstant {
  const c = ctx.constant(slot);
  if (!c) return ctx.unsupported(`a ${what} that is not a constant`);
  return c;
}

/**
 * The bias of a weighted operator (slot 2, optional), checked to have `n` values. All zeros is no
 * bias: the converter writes zeros for a Keras layer without one (use_bias=False, a separable
 * convolution's depthwise half), and the layer computes the same either way.
 */
export function optionalBias(ctx: TfliteOpContext, n: number): Float32Array | undefined {
  if (!ctx.has(2)) return undefined;
  const b = requiredConstant(ctx, 2, 'bias');
  if (b.data.length !== n) ctx.unsupported(`a bias of ${b.data.length} values for ${n} outputs`);
  return b.data.some((v) => v !== 0) ? b.data : undefined;
}

/** [O, kh, kw, I] (TFLite CONV_2D filter) to [kh, kw, I, O] (Keras/tfjs Conv2D kernel). */
export function ohwiToHwio(w: Float32Array, [O, kh, kw, I]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  const taps = kh * kw * I;
  for (let o = 0; o < O; o++) for (let t = 0; t < taps; t++) out[t * O + o] = w[o * taps + t];
  return out;
}

/** [units, F] (TFLite FULLY_CONNECTED weights) to [F, units] (Keras/tfjs Dense kernel). */
export function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/** A window attribute pair (rows, columns) of the options, e.g. strides (stride_h, stride_w). */
export function hw(ctx: TfliteOpContext, h: number, w: number, dflt: number): [number, number] {
  const pair: [number, number] = [ctx.options.int(h, dflt), ctx.options.int(w, dflt)];
  if (pair.some((v) => !Number.isInteger(v) || v < 1)) ctx.unsupported(`window sizes [${pair.join(', ')}]`);
  return pair;
}

/** The one activation input of an operator must be a tensor of `rank` (2: [T, C], 3: [H, W, C]). */
export function inputRank(ctx: TfliteOpContext): number {
  return ctx.inFlat[0] ? 1 : ctx.inShapes[0].length;
}

/** The layer's `inputs`, when it has them (a 1D form keeps the 2D layer's name and inputs). */
function placed(l: Layer): { name: string; inputs?: readonly string[] } {
  return l.inputs ? { name: l.name, inputs: l.inputs } : { name: l.name };
}

/** An operator without attributes (RELU, LOGISTIC, TANH, HARD_SWISH) as a layer of `kind`. */
export function plainTflite(kind: string, opNames: readonly string[]): TfliteMapping {
  return { opNames, fromTflite: (ctx) => ({ layers: [{ kind, name: ctx.name }] }) };
}

/**
 * MAX_POOL_2D / AVERAGE_POOL_2D on [H, W, C] (Pool2DOptions); on a unit row [1, W, C] with a window
 * of one row it is the 1D pool of `kind1d` along W. A fused activation follows as its own layer.
 */
export function pool2dTflite(kind: string, opName: string, kind1d: string): TfliteMapping {
  const o = POOL_OPTIONS;
  return {
    opNames: [opName],
    fromTflite(ctx) {
      if (inputRank(ctx) !== 3) return undefined;
      const poolSize = hw(ctx, o.filterH, o.filterW, 1);
      const strides = hw(ctx, o.strideH, o.strideW, 1);
      const act = ctx.activation(o.activation, false);
      const layer = { kind, name: ctx.name, poolSize, strides, padding: tflitePadding(ctx, o.padding) };
      return { layers: [layer, ...act.after] };
    },
    collapse1d(layer) {
      const l = layer as Layer & { poolSize: number[]; strides: number[]; padding: Padding };
      if (l.poolSize[0] !== 1) return undefined;
      return {
        kind: kind1d,
        ...placed(l),
        poolSize: l.poolSize[1],
        stride: l.strides[1],
        padding: l.padding,
      } as Layer;
    },
  };
}

/** Axes of a reduction over a tensor of `rank` dimensions (batch included), made non-negative and sorted. */
function reductionAxes(ctx: TfliteOpContext, rank: number): number[] {
  const axes = ctx.ints(1);
  if (!axes) return ctx.unsupported('reduction axes that are not a constant');
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/**
 * MEAN / REDUCE_MAX over the spatial axes of [T, C] (`spatial` 1) or [H, W, C] (2): global pooling.
 * keep_dims gives the pooled vector back its rank (a Reshape after). On a unit row [1, W, C] the 2D
 * kind is the 1D one (`kind1d`).
 */
export function globalPoolTflite(
  kind: string,
  opName: string,
  spatial: 1 | 2,
  kind1d?: string,
): TfliteMapping {
  return {
    opNames: [opName],
    fromTflite(ctx) {
      if (inputRank(ctx) !== spatial + 1) return undefined;
      const axes = reductionAxes(ctx, spatial + 2);
      const want = spatial === 1 ? [1] : [1, 2];
      if (axes.length !== want.length || axes.some((a, i) => a !== want[i]))
        ctx.unsupported(
          `a reduction over axes [${axes.join(', ')}] (global pooling reduces the spatial axes)`,
        );
      const layer: Layer = { kind, name: ctx.name };
      if (!ctx.options.bool(REDUCER_OPTIONS.keepDims)) return { layers: [layer] };
      return { layers: [layer, reshapeLayer(ctx.auxName('keepdims'), [...ctx.outShape])] };
    },
    ...(kind1d ? { collapse1d: (l: Layer) => ({ kind: kind1d, ...placed(l) }) } : {}),
  };
}

/**
 * PAD / PADV2 (with zeros) of the positions of [T, C] (`spatial` 1) or [H, W, C] (2): zero padding
 * with pads [before, after] per spatial axis; a 2D padding of a unit row with no rows added is the
 * 1D one (`kind1d`). Padding the batch or channels, or with another value, is not supported.
 */
export function padTflite(kind: string, spatial: 1 | 2, kind1d?: string): TfliteMapping {
  return {
    opNames: ['PAD', 'PADV2'],
    fromTflite(ctx) {
      if (inputRank(ctx) !== spatial + 1) return undefined;
      const p = ctx.ints(1);
      if (!p || p.length !== 2 * (spatial + 2)) return ctx.unsupported('paddings that are not a constant');
      const pairs = Array.from(
        { length: spatial + 2 },
        (_, a) => [p[2 * a], p[2 * a + 1]] as [number, number],
      );
      if ([pairs[0], pairs[spatial + 1]].some(([b, a]) => b !== 0 || a !== 0))
        ctx.unsupported('padding the batch or the channels');
      if (ctx.has(2) && ctx.constant(2)?.data.some((v) => v !== 0))
        ctx.unsupported('padding with a value other than 0');
      const axes = pairs.slice(1, spatial + 1);
      return { layers: [{ kind, name: ctx.name, padding: spatial === 1 ? axes[0] : axes } as Layer] };
    },
    zeroPads(layer) {
      const p = (layer as Layer & { padding: [number, number] | [number, number][] }).padding;
      return spatial === 1 ? [p as [number, number]] : (p as [number, number][]);
    },
    ...(kind1d
      ? {
          collapse1d(layer: Layer) {
            const [[top, bottom], lr] = (layer as Layer & { padding: [number, number][] }).padding;
            return top || bottom
              ? undefined
              : ({ kind: kind1d, ...placed(layer), padding: [...lr] } as Layer);
          },
        }
      : {}),
  };
}

/** The number of inputs of a merge (ADD, CONCATENATION), or -1 when one of them is a constant. */
export function noConstantInputs(ctx: TfliteOpContext): number {
  let n = 0;
  for (; ctx.has(n); n++) if (ctx.constant(n)) return -1;
  return n;
}

/**
 * A 1D window layer (Conv1D, DepthwiseConv1D: `kernelSize`, `dilation`, `padding`) on the zeros
 * [span - 1, 0] before its input, VALID: the causal layer (Keras pads so, then convolves VALID).
 */
export function causalAfterPad(layer: Layer, pads: readonly [number, number][]): Layer | undefined {
  const l = layer as Layer & { kernelSize: number; dilation?: number; padding: string };
  const span = (l.kernelSize - 1) * (l.dilation ?? 1) + 1;
  if (l.padding !== 'valid' || pads.length !== 1 || pads[0][0] !== span - 1 || pads[0][1] !== 0)
    return undefined;
  return { ...l, padding: 'causal' } as Layer;
}
