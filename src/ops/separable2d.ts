// SeparableConv2D on [H, W, C]: a DepthwiseConv2D (strides, dilation, same/valid padding, depth
// multiplier; no bias) then a pointwise 1x1 Conv2D with the bias and the fused activation.
// One layer in training and in files; two layers once deployed (separable.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Padding } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import { conv2d, type Conv2DLayer } from './conv2d.js';
import { depthwise2d, type DepthwiseConv2DLayer } from './depthwise2d.js';
import { depthwiseName, separableOp, sepArchFields, type SeparableLayer } from './separable.js';
import type { DwSpec } from './depthwise.js';

type Pair = [number, number];

export interface SeparableConv2DLayer extends SeparableLayer {
  kind: 'separable2d';
  kernelSize: Pair;
  strides: Pair;
  dilation: Pair;
  padding: Padding;
}

const KIND = 'separable2d';
const pair = z.union([posInt, z.tuple([posInt, posInt])]);
const both = (v: number | Pair): Pair => (Array.isArray(v) ? [v[0], v[1]] : [v, v]);

const archSchema = z.strictObject({
  type: z.literal(KIND),
  ...sepArchFields,
  kernelSize: pair,
  strides: pair.default(1),
  dilation: pair.default(1),
  padding: z.enum(['same', 'valid']).default('valid'),
});

const spec = (l: SeparableConv2DLayer): DwSpec => ({
  kh: l.kernelSize[0],
  kw: l.kernelSize[1],
  sh: l.strides[0],
  sw: l.strides[1],
  dh: l.dilation[0],
  dw: l.dilation[1],
  mult: l.depthMultiplier,
  padding: l.padding,
});

function parts(l: SeparableConv2DLayer): { dw: DepthwiseConv2DLayer; pw: Conv2DLayer } {
  return {
    dw: {
      kind: 'depthwise2d',
      name: depthwiseName(l),
      ...(l.inputs ? { inputs: l.inputs } : {}),
      kernelSize: l.kernelSize,
      strides: l.strides,
      dilation: l.dilation,
      padding: l.padding,
      depthMultiplier: l.depthMultiplier,
      activation: 'linear',
      useBias: false,
    },
    pw: {
      kind: 'conv2d',
      name: l.name,
      filters: l.filters,
      kernelSize: [1, 1],
      strides: [1, 1],
      dilation: [1, 1],
      padding: 'valid',
      activation: l.activation,
      useBias: l.useBias,
    },
  };
}

type SeparableArgs = Parameters<typeof tf.layers.separableConv2d>[0];
/** The tfjs SeparableConv2D class (tfjs exports only its factory). */
const TfSeparableConv2D = Object.getPrototypeOf(tf.layers.separableConv2d({ filters: 1, kernelSize: 1 }))
  .constructor as new (args: SeparableArgs) => tf.layers.Layer & { depthMultiplier: number };

/** tfjs's SeparableConv2D, saved as Keras 'SeparableConv2D' with its depth_multiplier (tfjs omits it). */
class KerasSeparableConv2D extends TfSeparableConv2D {
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthMultiplier: this.depthMultiplier };
  }
}

/** Keras sizes: an int or a list of two. */
function two(v: unknown, unsupported: (what: string) => never): Pair {
  const a = Array.isArray(v) ? v.map(Number) : [Number(v), Number(v)];
  if (a.length !== 2) unsupported(`size ${JSON.stringify(v)}`);
  return [a[0], a[1]];
}

export const separable2d = separableOp<SeparableConv2DLayer, DepthwiseConv2DLayer, Conv2DLayer>({
  kind: KIND,
  title: 'SeparableConv2D',
  rank: 3,
  spec,
  depthwise: depthwise2d,
  pointwise: conv2d,
  parts,
  archSchema,
  toLayer(s, name) {
    const a = s as z.output<typeof archSchema>;
    return {
      kind: KIND,
      name,
      filters: a.filters,
      kernelSize: both(a.kernelSize),
      strides: both(a.strides),
      dilation: both(a.dilation),
      padding: a.padding,
      depthMultiplier: a.depthMultiplier,
      activation: a.activation,
      useBias: a.useBias,
    };
  },
  fromKeras(l, k, c) {
    const u = (what: string) => k.unsupported(l, what);
    return {
      kind: KIND,
      name: l.name,
      ...c,
      kernelSize: two(l.config.kernel_size, u),
      strides: two(l.config.strides ?? 1, u),
      dilation: two(l.config.dilation_rate ?? 1, u),
      padding: k.padding(l),
    };
  },
  tfjsLayer: (l) =>
    new KerasSeparableConv2D({
      name: l.name,
      filters: l.filters,
      kernelSize: l.kernelSize,
      strides: l.strides,
      dilationRate: l.dilation,
      padding: l.padding,
      depthMultiplier: l.depthMultiplier,
      activation: l.activation,
      useBias: l.useBias,
    }),
});
