// What SeparableConv1D and SeparableConv2D share (Keras semantics): a depthwise conv without bias
// or activation, then a pointwise conv (1 / 1x1 kernel) with the bias and the fused activation:
//   d[p, c*M + m] = sum_taps x[window(p), c] * dw[tap, c, m]
//   y[p, f]       = act(bias[f] + sum_{c, m} d[p, c*M + m] * pw[c*M + m, f])
// They train as one layer (one tfjs layer, Keras weight names depthwise_kernel, pointwise_kernel,
// bias) and have no quantized form: at deploy time they expand into the two layers the target runs
// (src/graph/fold.ts), before BatchNorm folding, so a BatchNorm after one folds into the pointwise
// conv. The expanded layers compute exactly what the float forward here computes (the same code).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { archName } from './archFields.js';
import { channelsOf, type Layer, type LayerParams, type NodeInfo, type Shape } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import { TinyforgeError } from '../util/errors.js';
import { archWindow, depthwiseTf, kerasWindow, windowArchSchema, type DwSpec } from './depthwise.js';
import type { KerasContext, KerasLayer, OpModule, ParamSpec } from './types.js';
import * as W from './weighted.js';
import type { WeightedLayer } from './weighted.js';

/** A float separable layer: filters of the pointwise conv, depth multiplier of the depthwise one. */
export interface SeparableLayer extends WeightedLayer {
  filters: number;
  depthMultiplier: number;
}

/** What distinguishes SeparableConv1D from SeparableConv2D. */
export interface SeparableKind<L extends SeparableLayer, D extends Layer, P extends Layer> {
  kind: L['kind'];
  title: string;
  rank: 2 | 3;
  spec(l: L): DwSpec;
  /** The operators the layer expands into. */
  depthwise: OpModule<D>;
  pointwise: OpModule<P>;
  /** The depthwise layer (no bias, linear; reads the layer's inputs) and the pointwise one (its name). */
  parts(l: L): { dw: D; pw: P };
  tfjsLayer(l: L): tf.layers.Layer;
}

/** Architecture-file fields both kinds share. */
export const sepArchFields = {
  name: archName,
  filters: posInt,
  depthMultiplier: posInt.default(1),
  activation: z.enum(['linear', 'relu']).default('linear'),
  useBias: z.boolean().default(true),
};

/** Keras fields both kinds share. */
export interface SeparableCommon {
  filters: number;
  depthMultiplier: number;
  activation: 'linear' | 'relu';
  useBias: boolean;
}

/** The name of the depthwise half once expanded (fold.ts makes it unique). */
export function depthwiseName(l: Layer): string {
  return `${l.name}_depthwise`;
}

/** Keras's SeparableConv kernels: depthwise [k.., C, M], pointwise [1.., C*M, F]; bias [F]. */
function sepParams(l: SeparableLayer, s: DwSpec, C: number, rank: 2 | 3): ParamSpec[] {
  const taps = s.kh * s.kw;
  const CM = C * s.mult;
  const ones = rank === 3 ? [1, 1] : [1];
  const specs: ParamSpec[] = [
    {
      key: 'depthwiseKernel',
      shape: rank === 3 ? [s.kh, s.kw, C, s.mult] : [s.kw, C, s.mult],
      init: { glorot: [taps * C, taps * s.mult] },
      trainable: true,
      kerasName: 'depthwise_kernel',
    },
    {
      key: 'pointwiseKernel',
      shape: [...ones, CM, l.filters],
      init: { glorot: [CM, l.filters] },
      trainable: true,
      kerasName: 'pointwise_kernel',
    },
  ];
  if (l.useBias)
    specs.push({ key: 'bias', shape: [l.filters], init: 'zeros', trainable: true, kerasName: 'bias' });
  return specs;
}

/** Each half's parameters in its own operator's keys. */
function partParams(l: SeparableLayer, p: LayerParams): { dw: LayerParams; pw: LayerParams } {
  if (!p.depthwiseKernel || !p.pointwiseKernel)
    throw new TinyforgeError(`separable conv '${l.name}' has missing kernels`, 'model');
  return {
    dw: { kernel: p.depthwiseKernel },
    pw: { kernel: p.pointwiseKernel, ...(p.bias ? { bias: p.bias } : {}) },
  };
}

/** Keras activation, channels-last, depth multiplier and bias checks both kinds share. */
function kerasCommon(l: KerasLayer, k: KerasContext): { common: SeparableCommon; after: Layer[] } {
  k.checkChannelsLast(l);
  const act = k.activation(l, ['relu', 'linear']);
  return {
    common: {
      filters: Number(l.config.filters),
      depthMultiplier: Number(l.config.depth_multiplier ?? 1),
      activation: act.activation as 'linear' | 'relu',
      useBias: (l.config.use_bias ?? true) as boolean,
    },
    after: act.after,
  };
}

/**
 * The tfjs forward on x [N, H, W, C] (a sequence as [N, 1, T, C]): the depthwise conv (hand-written
 * gradients where the backend lacks them), then the pointwise conv as a matrix product (its
 * gradient needs no convolution backprop kernel). Returns [N, OH, OW, F].
 */
export function separableTf(
  x4: tf.Tensor4D,
  dwKernel: tf.Tensor,
  pwKernel: tf.Tensor,
  s: DwSpec,
  filters: number,
  custom: boolean,
): tf.Tensor4D {
  const C = x4.shape[3];
  const d = depthwiseTf(x4, dwKernel.reshape([s.kh, s.kw, C, s.mult]) as tf.Tensor4D, s, custom);
  const [N, OH, OW, CM] = d.shape;
  const y = tf.matMul(d.reshape([N * OH * OW, CM]), pwKernel.reshape([CM, filters]));
  return y.reshape([N, OH, OW, filters]);
}

/** Builds a separable operator module from what distinguishes its kind. */
export function separableOp<L extends SeparableLayer, D extends Layer, P extends Layer>(
  kd: SeparableKind<L, D, P>,
): OpModule<L> {
  const failWith = (why: string): never => {
    throw new TinyforgeError(why, 'model');
  };
  /** Each half's node: the depthwise reads the layer's input, the pointwise the depthwise output. */
  const partInfos = (l: L, info: NodeInfo) => {
    const { dw, pw } = kd.parts(l);
    const mid: Shape = kd.depthwise.infer(dw, [{ shape: info.inShape, flat: false }], failWith).shape;
    const dwInfo: NodeInfo = { ...info, layer: dw, outShape: mid };
    const pwInfo: NodeInfo = { ...info, layer: pw, inShape: mid, inShapes: [mid] };
    return { dw, pw, dwInfo, pwInfo };
  };
  return {
    kind: kd.kind,
    title: kd.title,
    infer(l, [x], fail) {
      if (x.flat || x.shape.length !== kd.rank)
        fail(`a ${kd.title} needs a rank-${kd.rank} tensor, got [${x.shape.join(', ')}]`);
      const { dw, pw } = kd.parts(l);
      const d = kd.depthwise.infer(dw, [x], fail);
      const p = kd.pointwise.infer(pw, [{ shape: d.shape, flat: false }], fail);
      return {
        shape: p.shape,
        flat: false,
        params: (d.params ?? 0) + (p.params ?? 0),
        macs: (d.macs ?? 0) + (p.macs ?? 0),
      };
    },
    arch: {
      schema: windowArchSchema(kd.kind, kd.rank, sepArchFields),
      toLayer: (s, { name }) => {
        const a = s as z.output<z.ZodObject<typeof sepArchFields>>;
        const layer = {
          kind: kd.kind,
          name,
          filters: a.filters,
          ...archWindow(kd.rank, s),
          depthMultiplier: a.depthMultiplier,
          activation: a.activation,
          useBias: a.useBias,
        };
        return layer as unknown as L;
      },
      widthKey: 'filters',
    },
    keras: {
      classNames: [kd.title],
      fromKeras(l, k) {
        const { common, after } = kerasCommon(l, k);
        const layer = { kind: kd.kind, name: l.name, ...common, ...kerasWindow(kd.rank, l, k) };
        return { layers: [layer as unknown as L, ...after] };
      },
    },
    params: (l, info) => sepParams(l, kd.spec(l), channelsOf(info.inShape), kd.rank),
    tfjs: {
      layer: (l) => kd.tfjsLayer(l),
      forward(l, [x], ctx) {
        const x4 = (kd.rank === 3 ? x : x.expandDims(1)) as tf.Tensor4D;
        const dwK = ctx.param('depthwiseKernel')!;
        const pwK = ctx.param('pointwiseKernel')!;
        const y = separableTf(x4, dwK, pwK, kd.spec(l), l.filters, ctx.customGrad);
        return W.biasAndActivation(kd.rank === 3 ? y : y.squeeze([1]), l, ctx);
      },
    },
    floatForward(l, info, p, [x]) {
      const { dw, pw, dwInfo, pwInfo } = partInfos(l, info);
      const pp = partParams(l, p);
      const d = kd.depthwise.floatForward(dw, dwInfo, pp.dw, [x]);
      return kd.pointwise.floatForward(pw, pwInfo, pp.pw, [d]);
    },
    deploy: {
      rule: 'expand',
      expand(layer, p) {
        const { dw, pw } = kd.parts(layer as L);
        const pp = partParams(layer as L, p);
        return { layers: [dw, pw], params: { [dw.name]: pp.dw, [pw.name]: pp.pw } };
      },
    },
    quantize(l) {
      throw new TinyforgeError(`separable conv '${l.name}' must be expanded before quantization`, 'model');
    },
  };
}
