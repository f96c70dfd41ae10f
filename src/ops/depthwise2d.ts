// DepthwiseConv2D on [H, W, C]: each input channel convolved with its own M filters (depth
// multiplier), strides, dilation, same/valid padding, fused ReLU, bias (depthwise.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Padding } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import { depthwiseOp, dwArchFields, dwKerasCommon, type DwSpec, type QDepthwise } from './depthwise.js';
import type { WeightedLayer } from './weighted.js';

export interface DepthwiseConv2DLayer extends WeightedLayer {
  kind: 'depthwise2d';
  kernelSize: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: Padding;
  depthMultiplier: number;
}

export interface QDepthwiseConv2D extends QDepthwise {
  kind: 'depthwise2d';
}

const KIND = 'depthwise2d';
const paddings = ['same', 'valid'] as const;
const pair = z.union([posInt, z.tuple([posInt, posInt])]);
const both = (v: number | [number, number]): [number, number] => (Array.isArray(v) ? v : [v, v]);

const archSchema = z.strictObject({
  type: z.literal(KIND),
  ...dwArchFields,
  kernelSize: pair,
  strides: pair.default(1),
  dilation: pair.default(1),
  padding: z.enum(paddings).default('valid'),
});

const spec = (l: DepthwiseConv2DLayer): DwSpec => ({
  kh: l.kernelSize[0],
  kw: l.kernelSize[1],
  sh: l.strides[0],
  sw: l.strides[1],
  dh: l.dilation[0],
  dw: l.dilation[1],
  mult: l.depthMultiplier,
  padding: l.padding,
});

/** Keras sizes: an int or a list of two. */
function two(v: unknown, k: { unsupported(what: string): never }): [number, number] {
  const a = Array.isArray(v) ? v.map(Number) : [Number(v), Number(v)];
  if (a.length !== 2) k.unsupported(`size ${JSON.stringify(v)}`);
  return [a[0], a[1]];
}

export const depthwise2d = depthwiseOp<DepthwiseConv2DLayer, QDepthwiseConv2D>({
  kind: KIND,
  title: 'DepthwiseConv2D',
  rank: 3,
  spec,
  paddings,
  layer: (base, s, relu) => ({
    ...base,
    kind: KIND,
    kernelSize: [s.kh, s.kw],
    strides: [s.sh, s.sw],
    dilation: [s.dh, s.dw],
    padding: s.padding as Padding,
    depthMultiplier: s.mult,
    activation: relu ? 'relu' : 'linear',
    useBias: true,
  }),
  archSchema,
  toLayer(s, name) {
    const a = s as z.output<typeof archSchema>;
    return {
      kind: KIND,
      name,
      kernelSize: both(a.kernelSize),
      strides: both(a.strides),
      dilation: both(a.dilation),
      padding: a.padding,
      depthMultiplier: a.depthMultiplier,
      activation: a.activation,
      useBias: a.useBias,
    };
  },
  fromKeras(l, k) {
    const c = dwKerasCommon(l, k);
    const u = { unsupported: (what: string) => k.unsupported(l, what) };
    return {
      kind: KIND,
      name: l.name,
      kernelSize: two(l.config.kernel_size, u),
      strides: two(l.config.strides ?? 1, u),
      dilation: two(l.config.dilation_rate ?? 1, u),
      padding: k.padding(l),
      depthMultiplier: c.mult,
      activation: c.activation,
      useBias: c.useBias,
    };
  },
  tfjsLayer: (l) =>
    tf.layers.depthwiseConv2d({
      name: l.name,
      kernelSize: l.kernelSize,
      strides: l.strides,
      dilationRate: l.dilation,
      padding: l.padding,
      depthMultiplier: l.depthMultiplier,
      activation: l.activation,
      useBias: l.useBias,
    }),
});
