// DepthwiseConv2D on [H, W, C]: each input channel convolved with its own M filters (depth
// multiplier), strides, dilation, same/valid padding, fused ReLU, bias (depthwise.ts).
import * as tf from '@tensorflow/tfjs';
import type { Padding } from '../graph/types.js';
import type { Window2D } from './archFields.js';
import { depthwiseOp, dwSpec2d as spec, type QDepthwise } from './depthwise.js';
import type { WeightedLayer } from './weighted.js';

export interface DepthwiseConv2DLayer extends WeightedLayer, Window2D {
  kind: 'depthwise2d';
  depthMultiplier: number;
}

export interface QDepthwiseConv2D extends QDepthwise {
  kind: 'depthwise2d';
}

const KIND = 'depthwise2d';
const paddings = ['same', 'valid'] as const;

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
