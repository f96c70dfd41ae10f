// What the operator modules' ONNX mappings (onnxTypes.ts) share: ONNX conventions (axes counted
// with the batch, pads, arguments that moved from attributes to inputs over the opsets), the window
// padding Keras can name, weight layouts, and the mappings several operators have in common
// (convolutions, pooling, elementwise activations, merges, layout-only nodes).
import { sizeOf, windowSpan, type ConvPadding, type Layer, type Padding } from '../graph/types.js';
import type {
  ChannelOrder,
  IrInput,
  OnnxConstant,
  OnnxContext,
  OnnxLayer,
  OnnxMapping,
  OnnxNode,
  OnnxResult,
} from './onnxTypes.js';

/** Name and inputs of a node's layer: what every maker below receives. */
export interface OnnxBase {
  name: string;
  inputs: string[];
}

/** Zeros before and after the positions of one spatial axis. */
export type AxisPad = [number, number];

const ones = (n: number): number[] => new Array<number>(n).fill(1);

/** An axis of a tensor of rank `rank` counted with the batch (negative from the end). */
export function onnxAxis(ctx: OnnxContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) ctx.unsupported(`axis ${axis} of a rank-${rank} tensor`);
  return a;
}

/**
 * A window attribute (kernel_shape, strides, dilations): one positive integer per spatial axis
 * (default all `fill`). A damaged file can give another count (finding onnx-window-attribute-count:
 * a NaN output size, then a raw Error).
 */
export function windowInts(node: OnnxNode, ctx: OnnxContext, name: string, rank: number, fill = 1): number[] {
  const v = node.attrs.ints(name, new Array<number>(rank).fill(fill));
  if (v.length !== rank || v.some((x) => !Number.isInteger(x) || x < 1))
    ctx.unsupported(`${name} [${v.join(', ')}] (${rank} integers >= 1)`);
  return v;
}

/** Integers an attribute gives (older opsets) or constant input `input` (newer ones); undefined if neither. */
export function intsArg(node: OnnxNode, ctx: OnnxContext, name: string, input: number): number[] | undefined {
  if (node.attrs.has(name)) return node.attrs.ints(name);
  if (!node.inputs[input]) return undefined;
  const c = ctx.constant(input);
  if (!c) return ctx.unsupported(`${name} computed at run time (only constants)`);
  return Array.from(c.values);
}

/** A float from an attribute (older opsets) or a constant scalar input; undefined if neither. */
export function floatArg(node: OnnxNode, ctx: OnnxContext, name: string, input: number): number | undefined {
  if (node.attrs.has(name)) return node.attrs.float(name);
  if (!node.inputs[input]) return undefined;
  const c = ctx.constant(input);
  if (!c || c.values.length !== 1) return ctx.unsupported(`${name} that is not a constant scalar`);
  return c.values[0];
}

/** The constant input i, or the reason it is not supported. */
export function constantInput(ctx: OnnxContext, i: number, what: string): OnnxConstant {
  return ctx.constant(i) ?? ctx.unsupported(`${what} computed at run time (only constant ${what}s)`);
}

/** A per-channel constant of n values (or one, repeated) in float32, in the IR's channel order. */
export function channelValues(
  ctx: OnnxContext,
  c: OnnxConstant,
  n: number,
  what: string,
  order?: ChannelOrder,
): Float32Array {
  if (c.values.length !== n && c.values.length !== 1)
    ctx.unsupported(`${what} of shape [${c.dims.join(', ')}] for ${n} channels`);
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) out[order ? order[f] : f] = c.values[c.values.length === 1 ? 0 : f];
  return out;
}

/** The zeros 'same' padding puts along an axis of L positions: enough for ceil(L / s) windows. */
function sameTotal(L: number, k: number, s: number, d: number): number {
  return Math.max((Math.ceil(L / s) - 1) * s + windowSpan(k, d) - L, 0);
}

/** The zeros before and after each spatial axis an ONNX window node asks for (pads or auto_pad). */
export function windowPads(
  node: OnnxNode,
  ctx: OnnxContext,
  inLen: number[],
  k: number[],
  s: number[],
  d: number[],
): AxisPad[] {
  const n = inLen.length;
  const auto = node.attrs.string('auto_pad', 'NOTSET');
  if (auto === 'VALID') return inLen.map(() => [0, 0]);
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER')
    return inLen.map((L, a) => {
      const total = sameTotal(L, k[a], s[a], d[a]);
      const small = Math.floor(total / 2);
      return auto === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
  if (auto !== 'NOTSET') ctx.unsupported(`auto_pad '${auto}'`);
  const p = node.attrs.ints('pads', new Array<number>(2 * n).fill(0));
  if (p.length !== 2 * n || p.some((v) => !Number.isInteger(v) || v < 0))
    ctx.unsupported(`pads [${p.join(', ')}] (only ${2 * n} values >= 0)`);
  return inLen.map((_, a) => [p[a], p[a + n]]);
}

/**
 * The Keras padding that puts the same zeros where `pads` does: none ('valid'), Keras 'same'
 * (floor(total / 2) before, the rest after), or 'causal' (span - 1 before, one axis only);
 * undefined when none does (a ZeroPadding layer goes first).
 */
export function kerasPadding(
  pads: AxisPad[],
  inLen: number[],
  k: number[],
  s: number[],
  d: number[],
): ConvPadding | undefined {
  if (pads.every(([b, e]) => b === 0 && e === 0)) return 'valid';
  const same = pads.every(([b, e], a) => {
    const total = sameTotal(inLen[a], k[a], s[a], d[a]);
    return b === Math.floor(total / 2) && e === total - b;
  });
  if (same) return 'same';
  if (pads.length === 1 && pads[0][0] === windowSpan(k[0], d[0]) - 1 && pads[0][1] === 0) return 'causal';
  return undefined;
}

/** A ZeroPadding1D or ZeroPadding2D layer: `pads` zeros around the positions of `input`. */
export function zeroPadLayer(name: string, input: string, pads: AxisPad[]): Layer {
  const kind = pads.length === 1 ? 'zeropad1d' : 'zeropad2d';
  const padding = pads.length === 1 ? [...pads[0]] : pads.map((p) => [...p]);
  return { kind, name, inputs: [input], padding } as Layer;
}

/** A Flatten layer (the importer flattens a tensor a Gemm or MatMul reads). */
export function flattenLayer(name: string, input: string): Layer {
  return { kind: 'flatten', name, inputs: [input] };
}

/** ONNX weights [Co, Ci, k...] in tfjs's [k..., Ci, Co] (a depthwise [C*M, 1, k...] as [k..., C, M]). */
export function convKernel(w: OnnxConstant): Float32Array {
  const [Co, Ci] = w.dims;
  const taps = sizeOf(w.dims.slice(2));
  const out = new Float32Array(Co * Ci * taps);
  for (let o = 0; o < Co; o++)
    for (let c = 0; c < Ci; c++)
      for (let t = 0; t < taps; t++) out[(t * Ci + c) * Co + o] = w.values[(o * Ci + c) * taps + t];
  return out;
}

/** The window a convolution or pooling layer gets: sizes along its spatial axes, and its padding. */
export interface OnnxWindow {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padding: ConvPadding;
}

/**
 * The padding of a window node on input x: Keras's when one of `paddings` puts the zeros where the
 * node does, otherwise a ZeroPadding layer first and 'valid' (`explicit` says whether that is exact).
 */
function paddedWindow(
  node: OnnxNode,
  ctx: OnnxContext,
  x: IrInput & { spatial: number[] },
  w: Omit<OnnxWindow, 'padding'>,
  paddings: readonly ConvPadding[],
  explicit: (pads: AxisPad[]) => true | string,
): { padding: ConvPadding; pre: OnnxLayer[]; input: string } {
  const pads = windowPads(node, ctx, x.spatial, w.kernel, w.strides, w.dilations);
  const padding = kerasPadding(pads, x.spatial, w.kernel, w.strides, w.dilations);
  if (padding !== undefined && paddings.includes(padding)) return { padding, pre: [], input: x.tensor };
  const ok = explicit(pads);
  if (ok !== true) ctx.unsupported(ok);
  const pad = zeroPadLayer(ctx.name('pad'), x.tensor, pads);
  return { padding: 'valid', pre: [{ layer: pad }], input: pad.name };
}

/** What distinguishes one convolution operator's reading of a Conv node. */
export interface OnnxConvSpec {
  /** Spatial axes: 1 ([N, C, L]) or 2 ([N, C, H, W]). */
  rank: 1 | 2;
  /** Depthwise (group = input channels) rather than ordinary (group 1). */
  depthwise: boolean;
  paddings: readonly ConvPadding[];
  /** The layer: `filters` output channels, `multiplier` of a depthwise one. */
  layer(base: OnnxBase, w: OnnxWindow, io: { filters: number; multiplier: number; useBias: boolean }): Layer;
}

/** ONNX Conv as one convolution operator (ordinary or depthwise, 1D or 2D; other groups are refused). */
export function onnxConv(spec: OnnxConvSpec): OnnxMapping {
  return {
    opTypes: ['Conv'],
    fromOnnx(node, ctx) {
      const wDims = ctx.constant(1)?.dims ?? ctx.dims(1);
      const xDims = ctx.dims(0);
      if (!wDims || !xDims || wDims.length - 2 !== spec.rank) return undefined;
      const group = node.attrs.int('group', 1);
      const C = xDims[0];
      if (spec.depthwise !== (group !== 1)) return undefined;
      if (spec.depthwise && (group !== C || wDims[1] !== 1))
        ctx.unsupported(`group ${group} with ${C} input channels (only 1, or ${C}: depthwise)`);
      const W = constantInput(ctx, 1, 'weight');
      const kernel = W.dims.slice(2);
      if (node.attrs.has('kernel_shape') && node.attrs.ints('kernel_shape').join() !== kernel.join())
        ctx.unsupported(`kernel_shape [${node.attrs.ints('kernel_shape').join(', ')}] unlike the weights'`);
      const win = {
        kernel,
        strides: windowInts(node, ctx, 'strides', spec.rank),
        dilations: windowInts(node, ctx, 'dilations', spec.rank),
      };
      const x = ctx.spatial(0);
      const p = paddedWindow(node, ctx, x, win, spec.paddings, () => true);
      const filters = W.dims[0];
      const bias = node.inputs[2] ? constantInput(ctx, 2, 'bias') : undefined;
      const io = { filters, multiplier: filters / C, useBias: bias !== undefined };
      const layer = spec.layer({ name: ctx.name(), inputs: [p.input] }, { ...win, padding: p.padding }, io);
      const params = {
        kernel: convKernel(W),
        ...(bias ? { bias: channelValues(ctx, bias, filters, 'bias') } : {}),
      };
      return { layers: [...p.pre, { layer, params }], out: { layout: 'channels-first' } };
    },
  };
}

/** What distinguishes one pooling operator's reading of a MaxPool or AveragePool node. */
export interface OnnxPoolSpec {
  rank: 1 | 2;
  max: boolean;
  layer(base: OnnxBase, w: { k: number[]; strides: number[]; padding: Padding }): Layer;
}

/** ceil_mode 1 makes more windows than floor rounding along some axis (not only a rounding note). */
function ceilChanges(inLen: number[], pads: AxisPad[], k: number[], s: number[]): boolean {
  return inLen.some((L, a) => {
    const room = L + pads[a][0] + pads[a][1] - k[a];
    let ceil = Math.ceil(room / s[a]) + 1;
    // The last window must start inside the input or its leading zeros (ONNX and PyTorch).
    if ((ceil - 1) * s[a] >= L + pads[a][0]) ceil--;
    return ceil !== Math.floor(room / s[a]) + 1;
  });
}

/**
 * ONNX MaxPool / AveragePool as one pooling operator. Keras's 'same' windows leave the padding out
 * (a max ignores it, an average does not count it); other zeros become a ZeroPadding layer where
 * that is exact: an average counting the padding, a max over values that are never negative.
 */
export function onnxPool(spec: OnnxPoolSpec): OnnxMapping {
  return {
    opTypes: [spec.max ? 'MaxPool' : 'AveragePool'],
    fromOnnx(node, ctx) {
      const k = node.attrs.ints('kernel_shape');
      if (k.length !== spec.rank || ctx.dims(0)?.length !== spec.rank + 1) return undefined;
      windowInts(node, ctx, 'kernel_shape', spec.rank);
      const strides = windowInts(node, ctx, 'strides', spec.rank);
      const dilations = windowInts(node, ctx, 'dilations', spec.rank);
      if (dilations.some((d) => d !== 1)) ctx.unsupported(`dilations [${dilations.join(', ')}] (only 1)`);
      const x = ctx.spatial(0);
      if (node.attrs.int('ceil_mode', 0) === 1) {
        const pads = windowPads(node, ctx, x.spatial, k, strides, ones(spec.rank));
        if (ceilChanges(x.spatial, pads, k, strides))
          ctx.unsupported('ceil_mode 1, which changes the output size,');
      }
      const countPads = !spec.max && node.attrs.int('count_include_pad', 0) === 1;
      const paddings: ConvPadding[] = countPads ? ['valid'] : ['valid', 'same'];
      const explicit = (pads: AxisPad[]): true | string => {
        const what = `pads [${pads.flat().join(', ')}], which Keras 'same' does not make,`;
        if (spec.max) return ctx.nonNegative(0) ? true : `${what} around values that may be negative`;
        return countPads ? true : `${what} with count_include_pad 0`;
      };
      const win = { kernel: k, strides, dilations: ones(spec.rank) };
      const p = paddedWindow(node, ctx, x, win, paddings, explicit);
      const layer = spec.layer(
        { name: ctx.name(), inputs: [p.input] },
        { k, strides, padding: p.padding as Padding },
      );
      return {
        layers: [...p.pre, { layer }],
        out: { layout: 'channels-first' },
        nonNegative: spec.max && ctx.nonNegative(0),
      };
    },
  };
}

/**
 * GlobalAveragePool / GlobalMaxPool, and ReduceMean / ReduceMax over exactly the spatial axes, as a
 * global pooling operator of `rank` spatial axes: [N, C, S...] to [N, C, 1...] (or [N, C]).
 */
export function onnxGlobalPool(
  kind: string,
  rank: 1 | 2,
  opTypes: [string, string],
  max: boolean,
): OnnxMapping {
  return {
    opTypes,
    fromOnnx(node, ctx) {
      const dims = ctx.dims(0);
      if (!dims || dims.length !== rank + 1) return undefined;
      let keep = true;
      if (node.opType === opTypes[1]) {
        const axes = intsArg(node, ctx, 'axes', 1);
        if (!axes || axes.length === 0)
          return ctx.unsupported('a reduction over every axis (only the spatial ones)');
        const norm = axes.map((a) => onnxAxis(ctx, a, rank + 2)).sort((a, b) => a - b);
        if (norm.join() !== [2, 3].slice(0, rank).join())
          ctx.unsupported(
            `axes [${axes.join(', ')}] (only the spatial axes ${rank === 1 ? '[2]' : '[2, 3]'})`,
          );
        keep = node.attrs.int('keepdims', 1) === 1;
      }
      const x = ctx.spatial(0);
      const layer = { kind, name: ctx.name(), inputs: [x.tensor] };
      const dimsOut = keep ? [x.channels, ...ones(rank)] : [x.channels];
      return {
        layers: [{ layer }],
        out: { layout: 'explicit', dims: dimsOut },
        nonNegative: max && ctx.nonNegative(0),
      };
    },
  };
}

/** An elementwise activation: one layer over its input, which keeps its ONNX shape and layout. */
export function onnxUnary(
  opTypes: readonly string[],
  layer: (base: OnnxBase, node: OnnxNode, ctx: OnnxContext) => Layer,
  nonNegative = false,
): OnnxMapping {
  return {
    opTypes,
    fromOnnx(node, ctx) {
      const x = ctx.any(0);
      const l = layer({ name: ctx.name(), inputs: [x.tensor] }, node, ctx);
      return { layers: [{ layer: l }], out: { layout: 'like', input: 0 }, nonNegative };
    },
  };
}

/**
 * ONNX Clip at 0 (min and max are inputs from opset 11, attributes before): a ReLU without a top,
 * a clipped ReLU (ReLU6 for Clip(0, 6)) with one. `layer` gets the top, or undefined.
 */
export function onnxClip(layer: (base: OnnxBase, max: number | undefined) => Layer): OnnxMapping {
  return onnxUnary(
    ['Clip'],
    (base, node, ctx) => {
      const lo = floatArg(node, ctx, 'min', 1);
      const hi = floatArg(node, ctx, 'max', 2);
      const top = hi === undefined || hi >= 3.4e38 ? undefined : hi;
      if (lo !== 0 || (top !== undefined && !(top > 0)))
        ctx.unsupported(`Clip(${lo ?? '-inf'}, ${hi ?? 'inf'}) (only Clip(0, max) with max > 0)`);
      return layer(base, top);
    },
    true,
  );
}

/** Softmax over every value but the batch (IR softmax normalizes the whole tensor). */
export function onnxSoftmax(kind: string): OnnxMapping {
  return onnxUnary(['Softmax'], (base, node, ctx) => {
    const dims = ctx.dims(0)!;
    const rank = dims.length + 1;
    // Before opset 13 Softmax flattens from `axis` (default 1) on; from 13 it runs along `axis` (default -1).
    const old = ctx.opset < 13;
    const axis = onnxAxis(ctx, node.attrs.int('axis', old ? 1 : -1), rank);
    if (axis === 0) ctx.unsupported('axis 0 (the batch)');
    const outside = old ? dims.slice(0, axis - 1) : dims.filter((_, i) => i !== axis - 1);
    if (sizeOf(outside) !== 1)
      ctx.unsupported(`axis ${axis} of shape [N, ${dims.join(', ')}] (only the last axis of a vector)`);
    return { kind, ...base };
  });
}

/** BatchNormalization (inference) over ONNX axis 1: the channels, or the features of [N, F]. */
export function onnxBatchNorm(layer: (base: OnnxBase, epsilon: number) => Layer): OnnxMapping {
  return {
    opTypes: ['BatchNormalization'],
    fromOnnx(node, ctx) {
      if (node.attrs.int('training_mode', 0) !== 0) ctx.unsupported('training_mode 1');
      if (node.attrs.int('spatial', 1) !== 1) ctx.unsupported('spatial 0');
      const x = ctx.channels(0);
      const stat = (i: number, what: string) =>
        channelValues(ctx, constantInput(ctx, i, what), x.channels, what, x.order);
      const params = {
        gamma: stat(1, 'scale'),
        beta: stat(2, 'bias'),
        movingMean: stat(3, 'mean'),
        movingVariance: stat(4, 'variance'),
      };
      const l = layer({ name: ctx.name(), inputs: [x.tensor] }, node.attrs.float('epsilon', 1e-5));
      return { layers: [{ layer: l, params }], out: { layout: 'like', input: 0 } };
    },
  };
}

/** The runtime inputs of a merge (a constant among them is refused). */
function mergeInputs(node: OnnxNode, ctx: OnnxContext, what: string): number[] {
  const idx = node.inputs.map((_, i) => i).filter((i) => node.inputs[i]);
  for (const i of idx)
    if (ctx.constant(i)) ctx.unsupported(`${what} a constant (input ${i}; a bias only right after MatMul)`);
  if (idx.length < 2) ctx.unsupported(`${idx.length} input (at least two)`);
  return idx;
}

/** Add (or Sum) of tensors of one shape: no broadcasting, the inputs laid out alike. */
export function onnxAdd(kind: string): OnnxMapping {
  return {
    opTypes: ['Add', 'Sum'],
    fromOnnx(node, ctx) {
      const idx = mergeInputs(node, ctx, 'adding');
      const d0 = ctx.dims(idx[0])!;
      for (const i of idx)
        if (ctx.dims(i)!.join() !== d0.join())
          ctx.unsupported(
            `adding shapes [N, ${d0.join(', ')}] and [N, ${ctx.dims(i)!.join(', ')}] (broadcasting)`,
          );
      const inputs = idx.map((i, k) => (k === 0 ? ctx.any(i) : ctx.like(i, idx[0])).tensor);
      const nonNegative = idx.every((i) => ctx.nonNegative(i));
      return {
        layers: [{ layer: { kind, name: ctx.name(), inputs } }],
        out: { layout: 'like', input: idx[0] },
        nonNegative,
      };
    },
  };
}

/** Concat along the channels (ONNX axis 1) of channels-first tensors or of feature vectors. */
export function onnxConcat(kind: string): OnnxMapping {
  return {
    opTypes: ['Concat'],
    fromOnnx(node, ctx) {
      const idx = mergeInputs(node, ctx, 'concatenating');
      const rank = ctx.dims(idx[0])!.length + 1;
      const axis = onnxAxis(ctx, node.attrs.int('axis'), rank);
      if (axis !== 1) ctx.unsupported(`axis ${axis} (only the channel axis 1)`);
      const nonNegative = idx.every((i) => ctx.nonNegative(i));
      if (rank > 2) {
        const inputs = idx.map((i) => ctx.spatial(i).tensor);
        return {
          layers: [{ layer: { kind, name: ctx.name(), inputs } }],
          out: { layout: 'channels-first' },
          nonNegative,
        };
      }
      const xs = idx.map((i) => ctx.features(i));
      const F = xs.reduce((a, x) => a + x.shape[1], 0);
      const order = new Int32Array(F);
      let at = 0;
      for (const x of xs) {
        for (let f = 0; f < x.shape[1]; f++) order[at + f] = at + (x.order ? x.order[f] : f);
        at += x.shape[1];
      }
      const inputs = xs.map((x) => x.tensor);
      return {
        layers: [{ layer: { kind, name: ctx.name(), inputs } }],
        out: { layout: 'explicit', dims: [F], order },
        nonNegative,
      };
    },
  };
}

/** Gemm's C or MatMul's bias Add operand: one value or one per unit, as float32. */
function denseBias(ctx: OnnxContext, c: OnnxConstant, units: number, beta: number): Float32Array {
  if (sizeOf(c.dims.slice(0, -1)) !== 1) ctx.unsupported(`a bias of shape [${c.dims.join(', ')}]`);
  return channelValues(ctx, c, units, 'bias').map((v) => v * beta);
}

/** The Add right after a MatMul whose other operand is a constant: the Dense's bias. */
function biasAdd(ctx: OnnxContext, units: number): { add: OnnxNode; c: OnnxConstant } | undefined {
  const add = ctx.soleConsumer();
  if (add?.opType !== 'Add') return undefined;
  const c = [0, 1].map((i) => ctx.constantOf(add, i)).find((v) => v !== undefined);
  if (!c || (c.values.length !== units && c.values.length !== 1) || c.dims.length > 2) return undefined;
  return { add, c };
}

/**
 * Gemm (alpha, beta, transB; not transA) and MatMul (+ a constant Add: its bias) on a feature
 * vector as a Dense: weights [F, units] with the rows in the IR's feature order (a Flatten of a
 * channels-first tensor reads it channels last).
 */
export function onnxDense(layer: (base: OnnxBase, units: number, useBias: boolean) => Layer): OnnxMapping {
  return {
    opTypes: ['Gemm', 'MatMul'],
    fromOnnx(node, ctx) {
      const gemm = node.opType === 'Gemm';
      if (gemm && node.attrs.int('transA', 0) !== 0) ctx.unsupported('transA 1');
      const B = constantInput(ctx, 1, 'weight');
      if (B.dims.length !== 2) ctx.unsupported(`weights of shape [${B.dims.join(', ')}] (only a matrix)`);
      const transB = gemm && node.attrs.int('transB', 0) === 1;
      const [F, units] = transB ? [B.dims[1], B.dims[0]] : B.dims;
      const x = ctx.features(0);
      if (x.shape[1] !== F)
        ctx.unsupported(`weights of shape [${B.dims.join(', ')}] for ${x.shape[1]} features`);
      const alpha = gemm ? node.attrs.float('alpha', 1) : 1;
      const kernel = new Float32Array(F * units);
      for (let f = 0; f < F; f++) {
        const row = x.order ? x.order[f] : f;
        for (let o = 0; o < units; o++)
          kernel[row * units + o] = alpha * B.values[transB ? o * F + f : f * units + o];
      }
      const add = gemm ? undefined : biasAdd(ctx, units);
      const c = gemm ? (node.inputs[2] ? constantInput(ctx, 2, 'bias') : undefined) : add?.c;
      const bias = c && denseBias(ctx, c, units, gemm ? node.attrs.float('beta', 1) : 1);
      const l = layer({ name: ctx.name(), inputs: [x.tensor] }, units, bias !== undefined);
      const result: OnnxResult = {
        layers: [{ layer: l, params: { kernel, ...(bias ? { bias } : {}) } }],
        out: { layout: 'explicit', dims: [units] },
      };
      return add ? { ...result, absorbs: add.add } : result;
    },
  };
}

/** A spatial Pad with zeros (mode constant, value 0) as a ZeroPadding layer of `rank` axes. */
export function onnxPad(rank: 1 | 2): OnnxMapping {
  return {
    opTypes: ['Pad'],
    fromOnnx(node, ctx) {
      const dims = ctx.dims(0);
      if (!dims || dims.length !== rank + 1) return undefined;
      const mode = node.attrs.string('mode', 'constant');
      if (mode !== 'constant') ctx.unsupported(`mode '${mode}' (only constant zeros)`);
      const value = floatArg(node, ctx, 'value', 2) ?? 0;
      if (value !== 0) ctx.unsupported(`padding with ${value} (only zeros)`);
      const r = rank + 2;
      const given = intsArg(node, ctx, 'pads', 1) ?? [];
      const axes = (node.inputs[3] ? intsArg(node, ctx, 'axes', 3)! : [...Array(r).keys()]).map((a) =>
        onnxAxis(ctx, a, r),
      );
      if (given.length !== 2 * axes.length) ctx.unsupported(`pads [${given.join(', ')}]`);
      const pads: AxisPad[] = Array.from({ length: r }, () => [0, 0]);
      axes.forEach((a, i) => (pads[a] = [given[i], given[i + axes.length]]));
      if (pads.slice(0, 2).some(([b, e]) => b !== 0 || e !== 0))
        ctx.unsupported('padding the batch or the channels (only the spatial axes)');
      if (pads.some(([b, e]) => b < 0 || e < 0)) ctx.unsupported('negative pads (cropping)');
      const x = ctx.spatial(0);
      const layer = zeroPadLayer(ctx.name(), x.tensor, pads.slice(2));
      return { layers: [{ layer }], out: { layout: 'channels-first' }, nonNegative: ctx.nonNegative(0) };
    },
  };
}

/** A node that changes only the ONNX shape: input 0's tensor, no layer. */
function view(dims: number[]): OnnxResult {
  return { layers: [], out: { layout: 'view', input: 0, dims } };
}

/** Dropout (inference) and Identity: no layer. */
export const onnxIdentity: OnnxMapping = {
  opTypes: ['Dropout', 'Identity'],
  fromOnnx(node, ctx) {
    const training = node.inputs[2] ? constantInput(ctx, 2, 'training_mode').values[0] : 0;
    if (training !== 0 || node.attrs.int('is_test', 1) === 0) ctx.unsupported('training mode');
    return view(ctx.dims(0)!);
  },
};

/** Flatten from `axis` (default 1) as a view: the axes before it may only be the batch and ones. */
export const onnxFlatten: OnnxMapping = {
  opTypes: ['Flatten'],
  fromOnnx(node, ctx) {
    const dims = ctx.dims(0)!;
    const given = node.attrs.int('axis', 1);
    // Flatten's axis may also be the rank itself (everything in the first dimension).
    const axis = given < 0 ? given + dims.length + 1 : given;
    if (axis <= 0 || axis > dims.length + 1 || sizeOf(dims.slice(0, axis - 1)) !== 1)
      ctx.unsupported(`axis ${given}, which folds the batch into the features`);
    return view([sizeOf(dims.slice(axis - 1))]);
  },
};

/** The dims without the batch a Reshape target gives (0 copies, -1 is the rest), the batch kept. */
function reshapeTarget(ctx: OnnxContext, dims: number[], target: number[], allowZero: boolean): number[] {
  const full = [1, ...dims];
  const t = target.map((v, i) => (v === 0 && !allowZero ? full[i] : v));
  if (t.length === 0 || (t[0] !== 1 && t[0] !== -1))
    ctx.unsupported(`shape [${target.join(', ')}], which moves the batch`);
  const rest = t.slice(1);
  const known = sizeOf(rest.filter((v) => v !== -1));
  const holes = rest.filter((v) => v === -1).length;
  const total = sizeOf(dims);
  if (holes > 1 || (holes === 1 && t[0] === -1) || rest.some((v) => v < -1) || known === 0)
    ctx.unsupported(`shape [${target.join(', ')}]`);
  const out = rest.map((v) => (v === -1 ? total / known : v));
  if (!out.every((v) => Number.isInteger(v)) || sizeOf(out) !== total)
    ctx.unsupported(`shape [${target.join(', ')}] for [N, ${dims.join(', ')}]`);
  return out;
}

/** Reshape to a constant shape, Squeeze and Unsqueeze (not of the batch): views. */
export const onnxReshape: OnnxMapping = {
  opTypes: ['Reshape', 'Squeeze', 'Unsqueeze'],
  fromOnnx(node, ctx) {
    const dims = ctx.dims(0)!;
    if (node.opType === 'Reshape') {
      const target = Array.from(constantInput(ctx, 1, 'shape').values);
      return view(reshapeTarget(ctx, dims, target, node.attrs.int('allowzero', 0) === 1));
    }
    const squeeze = node.opType === 'Squeeze';
    const rank = dims.length + 1 + (squeeze ? 0 : (intsArg(node, ctx, 'axes', 1) ?? []).length);
    const given = intsArg(node, ctx, 'axes', 1);
    if (!given && !squeeze) ctx.unsupported('Unsqueeze without axes');
    // Squeeze without axes drops every axis of size 1 but the batch.
    const axes = (given ?? dims.flatMap((d, i) => (d === 1 ? [i + 1] : []))).map((a) =>
      onnxAxis(ctx, a, rank),
    );
    if (axes.includes(0)) ctx.unsupported('an axis of the batch (0)');
    if (squeeze) {
      if (axes.some((a) => dims[a - 1] !== 1))
        ctx.unsupported(`axes [${given?.join(', ')}] of sizes other than 1`);
      return view(dims.filter((_, i) => !axes.includes(i + 1)));
    }
    const out: number[] = [];
    for (let a = 1, d = 0; a < rank; a++) out.push(axes.includes(a) ? 1 : dims[d++]);
    return view(out);
  },
};
