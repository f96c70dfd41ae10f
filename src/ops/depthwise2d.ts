// DepthwiseConv2D on [H, W, C]: each input channel convolved with its own M filters (depth
// multiplier), strides, dilation, same/valid padding, fused ReLU, bias (depthwise.ts).
import * as tf from '@tensorflow/tfjs';
import { onnxConv } from './onnxFields.js';
import type { Padding } from '../graph/types.js';
import type { Window2D } from './archFields.js';
import { depthwiseOp, dwSpec2d as spec, type QDepthwise } from './depthwise.js';
import type { WeightedLayer } from './weighted.js';
import type { Layer } from '../graph/types.js';
import type { TfliteOpContext, TfliteResult } from './tfliteTypes.js';
import {
  DEPTHWISE_OPTIONS as DO,
  hw,
  inputRank,
  optionalBias,
  requiredConstant,
  tflitePadding,
} from './tfliteFields.js';

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
  onnx: onnxConv({
    rank: 2,
    depthwise: true,
    paddings,
    layer: (base, w, io): DepthwiseConv2DLayer => ({
      kind: KIND,
      ...base,
      kernelSize: [w.kernel[0], w.kernel[1]],
      strides: [w.strides[0], w.strides[1]],
      dilation: [w.dilations[0], w.dilations[1]],
      padding: w.padding === 'same' ? 'same' : 'valid',
      depthMultiplier: io.multiplier,
      activation: 'linear',
      useBias: io.useBias,
    }),
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
  tflite: { opNames: ['DEPTHWISE_CONV_2D'], fromTflite: depthwiseFromTflite, collapse1d: depthwiseTo1d },
});

/** TFLite DEPTHWISE_CONV_2D: filter [1, kh, kw, C*M] (the Keras kernel [kh, kw, C, M] in memory). */
function depthwiseFromTflite(ctx: TfliteOpContext): TfliteResult | undefined {
  if (inputRank(ctx) !== 3) return undefined;
  const f = requiredConstant(ctx, 1, 'filter');
  const [one, kh, kw, CM] = f.shape;
  const C = ctx.inShapes[0][2];
  if (f.shape.length !== 4 || one !== 1 || CM % C !== 0)
    ctx.unsupported(`a filter of shape [${f.shape.join(', ')}] on ${C} channels`);
  const strides = hw(ctx, DO.strideH, DO.strideW, 1);
  const dilation = hw(ctx, DO.dilationH, DO.dilationW, 1);
  // Keras (and the IR's window) has either strides or dilation above 1, never both.
  if (strides.some((v) => v > 1) && dilation.some((v) => v > 1))
    ctx.unsupported(`dilation [${dilation.join(', ')}] with strides [${strides.join(', ')}]`);
  const act = ctx.activation(DO.activation, true);
  const bias = optionalBias(ctx, CM);
  const layer: DepthwiseConv2DLayer = {
    kind: KIND,
    name: ctx.name,
    kernelSize: [kh, kw],
    strides,
    dilation,
    padding: tflitePadding(ctx, DO.padding),
    depthMultiplier: CM / C,
    activation: act.activation,
    useBias: bias !== undefined,
  };
  const kernel = f.data;
  return { layers: [layer, ...act.after], params: { [ctx.name]: bias ? { kernel, bias } : { kernel } } };
}

/** A one-row kernel on [1, W, C] is DepthwiseConv1D along W (kernel [1, k, C, M] is [k, C, M]). */
function depthwiseTo1d(layer: Layer): Layer | undefined {
  const l = layer as DepthwiseConv2DLayer;
  if (l.kernelSize[0] !== 1) return undefined;
  return {
    kind: 'depthwise1d',
    name: l.name,
    ...(l.inputs ? { inputs: l.inputs } : {}),
    kernelSize: l.kernelSize[1],
    stride: l.strides[1],
    dilation: l.dilation[1],
    padding: l.padding,
    depthMultiplier: l.depthMultiplier,
    activation: l.activation,
    useBias: l.useBias,
  } as Layer;
}
