// SeparableConv2D on [H, W, C]: a DepthwiseConv2D (strides, dilation, same/valid padding, depth
// multiplier; no bias) then a pointwise 1x1 Conv2D with the bias and the fused activation.
// One layer in training and in files; two layers once deployed (separable.ts).
import * as tf from '@tensorflow/tfjs';
import { window2dLayer, type Window2D } from './archFields.js';
import { conv2d, type Conv2DLayer } from './conv2d.js';
import { depthwise2d, type DepthwiseConv2DLayer } from './depthwise2d.js';
import { depthwiseName, separableOp, type SeparableLayer } from './separable.js';
import { dwSpec2d as spec } from './depthwise.js';

export interface SeparableConv2DLayer extends SeparableLayer, Window2D {
  kind: 'separable2d';
}

const KIND = 'separable2d';

function parts(l: SeparableConv2DLayer): { dw: DepthwiseConv2DLayer; pw: Conv2DLayer } {
  return {
    dw: {
      kind: 'depthwise2d',
      name: depthwiseName(l),
      ...(l.inputs ? { inputs: l.inputs } : {}),
      ...window2dLayer(l),
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

export const separable2d = separableOp<SeparableConv2DLayer, DepthwiseConv2DLayer, Conv2DLayer>({
  kind: KIND,
  title: 'SeparableConv2D',
  rank: 3,
  spec,
  depthwise: depthwise2d,
  pointwise: conv2d,
  parts,
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
