// Dense: y[o] = act(bias[o] + sum_i x[i] * w[i, o]) over the channels-last features i = t*C + c.
// Weights [F, units] in tfjs; rows of F per output unit once quantized. On the target it is the
// Conv1D kernel with one window.
import * as tf from '@tensorflow/tfjs';
import { onnxDense } from './onnxFields.js';
import { z } from 'zod';
import { archName } from './archFields.js';
import { requantize, requantShift } from '../fixedpoint/semantics.js';
import type { NodeInfo } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import type { OpModule } from './types.js';
import * as W from './weighted.js';
import type { WeightedLayer, WeightedQ } from './weighted.js';
import { irActivation, type Int8WeightedQ, type WeightedLoop } from './int8.js';
import { TFLITE_2_21_ROUNDING } from '../fixedpoint/tflite.js';
import { sizeOf, type Layer } from '../graph/types.js';
import type { TfliteOpContext, TfliteResult } from './tfliteTypes.js';
import { FC_OPTIONS as FO, optionalBias, requiredConstant, transpose2d } from './tfliteFields.js';

export interface DenseLayer extends WeightedLayer {
  kind: 'dense';
  units: number;
}

export interface QDense extends WeightedQ {
  kind: 'dense';
  units: number;
}

const KIND = 'dense';

const archSchema = z.strictObject({
  type: z.literal(KIND),
  name: archName,
  units: z.union([posInt, z.literal('classes')]),
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
});

/** Float rows: row o = w[i][o] for every feature i (tfjs kernel [F, units]). */
function rows(l: DenseLayer, info: NodeInfo, kernel: Float32Array) {
  const F = info.inShape[0] * info.inShape[1];
  const Co = l.units;
  const data = new Float32Array(Co * F);
  for (let o = 0; o < Co; o++) for (let i = 0; i < F; i++) data[o * F + i] = kernel[i * Co + o];
  return { rows: Co, rowLength: F, data };
}

/** The reference loop of both schemes: start(o) + sum x[i] * w[i], finished per output. */
const loop: WeightedLoop<{ units: number }> = (q, x, row, start, finish) => {
  const y = new Int8Array(q.units);
  for (let o = 0; o < q.units; o++) {
    const w = row(o);
    let acc = start(o);
    for (let i = 0; i < x.length; i++) acc += x[i] * w[i];
    y[o] = finish(o, acc);
  }
  return y;
};

function reference(q: QDense, [x]: Int8Array[], row: (o: number) => Int8Array): Int8Array {
  return loop(
    q,
    x,
    row,
    (o) => q.bias[o],
    (o, acc) => requantize(acc, requantShift(q.inFrac, W.wFracOf(q, o), q.outFrac), q.relu),
  );
}

/** Under TFLite's int8 scheme (FULLY_CONNECTED: per-tensor multiplier from a float32 scale product). */
export type QDense8 = W.WeightedFields<QDense> & Int8WeightedQ;

const toIr = (q: { name: string; inputs?: readonly string[]; units: number }, relu: boolean): DenseLayer => ({
  kind: KIND,
  name: q.name,
  ...(q.inputs ? { inputs: q.inputs } : {}),
  units: q.units,
  activation: relu ? 'relu' : 'linear',
  useBias: true,
});

function geometry(q: QDense) {
  const F = q.inShape[0] * q.inShape[1];
  return { T: 1, C: F, k: 1, stride: 1, padLeft: 0, L: 1, cout: q.units };
}

const parts = W.weightedParts<DenseLayer, QDense>({
  kind: KIND,
  schemaFields: { units: posInt },
  outChannels: (l) => l.units,
  rows,
  fields: (l) => ({ kind: KIND, units: l.units }),
  geometry,
  view: (_q, base) => ({ features: base.inSize }),
});

export const dense: OpModule<DenseLayer, QDense> = {
  kind: KIND,
  title: 'Dense',
  infer(l, [x], fail) {
    const [T, C] = x.shape;
    if (!x.flat && T !== 1)
      fail('Dense on a sequence is not supported: add Flatten or GlobalAveragePooling1D');
    const F = T * C;
    return {
      shape: [1, l.units],
      flat: true,
      params: F * l.units + (l.useBias ? l.units : 0),
      macs: F * l.units,
    };
  },
  arch: {
    schema: archSchema,
    toLayer(s, { name, classes }) {
      const a = s as z.output<typeof archSchema>;
      const units = a.units === 'classes' ? classes : a.units;
      return { kind: KIND, name, units, activation: a.activation, useBias: a.useBias };
    },
  },
  keras: {
    classNames: ['Dense'],
    fromKeras(l, k) {
      const act = k.activation(l, ['relu', 'linear', 'softmax']);
      const layer: DenseLayer = {
        kind: KIND,
        name: l.name,
        units: Number(l.config.units),
        activation: act.activation as 'linear' | 'relu',
        useBias: l.config.use_bias ?? true,
      };
      return { layers: [layer, ...act.after] };
    },
  },
  tflite: { opNames: ['FULLY_CONNECTED'], fromTflite: denseFromTflite },
  onnx: onnxDense((base, units, useBias): DenseLayer => ({
    kind: KIND,
    ...base,
    units,
    activation: 'linear',
    useBias,
  })),
  params(l, info) {
    const F = info.inShape[0] * info.inShape[1];
    return W.weightedParams([F, l.units], [F, l.units], l.units, l.useBias);
  },
  tfjs: {
    layer: (l) =>
      tf.layers.dense({ name: l.name, units: l.units, activation: l.activation, useBias: l.useBias }),
    forward(l, [h], ctx) {
      const h2 = h.rank === 2 ? (h as tf.Tensor2D) : (h.reshape([h.shape[0], -1]) as tf.Tensor2D);
      return W.biasAndActivation(tf.matMul(h2, ctx.param('kernel') as tf.Tensor2D), l, ctx);
    },
  },
  floatForward(l, info, p, [x]) {
    const F = info.inShape[0] * info.inShape[1];
    const Co = l.units;
    const w = p.kernel!; // [F, Co]
    const y = new Float32Array(Co);
    for (let o = 0; o < Co; o++) {
      let acc = p.bias ? p.bias[o] : 0;
      for (let i = 0; i < F; i++) acc += x[i] * w[i * Co + o];
      y[o] = W.activate(acc, l.activation);
    }
    return y;
  },
  pruning: {
    // Features are t*C + c over the (pooled) sequence this layer reads: T = F / C either way
    // (after Flatten, or C alone after global pooling); kernel [T, C, units].
    keepInputs: (l, p, keep, C, info) => ({
      params: {
        ...p,
        kernel: W.keepKernelInputs(p.kernel!, (info.inShape[0] * info.inShape[1]) / C, C, keep, l.units),
      },
      stop: true,
    }),
  },
  ...parts.stages,
  quantized: {
    toIr: (q) => toIr(q, q.relu),
    ...parts.quantized,
    check(q, { info, inFracs, fail }) {
      W.checkWeighted(q, q.units, info.inShape[0] * info.inShape[1], inFracs[0], fail);
    },
    reference,
  },
  codegen: parts.codegen,
  int8: W.weightedInt8<DenseLayer, QDense8>({
    spec: parts.spec,
    flavour: { fullyConnected: true, rounding: TFLITE_2_21_ROUNDING.fullyConnected },
    loop,
    outs: (q) => q.units,
    rowLength: (_q, info) => sizeOf(info.inShape),
    toIr: (q) => toIr(q, irActivation(q) === 'relu'),
  }),
};

/**
 * TFLite FULLY_CONNECTED: weights [units, F] (to [F, units]) over the flattened input (TFLite
 * flattens it implicitly: a Flatten comes first when the input is not a vector), fused ReLU.
 */
function denseFromTflite(ctx: TfliteOpContext): TfliteResult {
  const w = requiredConstant(ctx, 1, 'weights');
  const [units, F] = w.shape;
  const x = ctx.inShapes[0];
  const vector = ctx.inFlat[0] || (x.length === 2 && x[0] === 1);
  if (w.shape.length !== 2) ctx.unsupported(`weights of shape [${w.shape.join(', ')}]`);
  if (ctx.options.byte(FO.weightsFormat) !== 0) ctx.unsupported('shuffled weights');
  if (ctx.options.bool(FO.keepNumDims) && !vector) ctx.unsupported('keep_num_dims (a Dense on every step)');
  if (sizeOf(x) !== F) ctx.unsupported(`weights for ${F} features on an input of ${sizeOf(x)}`);
  const act = ctx.activation(FO.activation, true);
  const bias = optionalBias(ctx, units);
  const layer: DenseLayer = {
    kind: KIND,
    name: ctx.name,
    units,
    activation: act.activation,
    useBias: bias !== undefined,
  };
  const before: Layer[] = vector ? [] : [{ kind: 'flatten', name: ctx.auxName('flatten') }];
  const kernel = transpose2d(w.data, units, F);
  return {
    layers: [...before, layer, ...act.after],
    params: { [ctx.name]: bias ? { kernel, bias } : { kernel } },
  };
}
