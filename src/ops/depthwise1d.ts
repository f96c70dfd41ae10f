// DepthwiseConv1D: each input channel convolved with its own M filters (depth multiplier), stride,
// dilation, same/valid/causal padding, fused ReLU, bias. The 2D kernel with H = 1 (depthwise.ts).
import * as tf from '@tensorflow/tfjs';
import { onnxConv } from './onnxFields.js';
import { paddings1d, type Window1D } from './archFields.js';
import {
  biasRelu,
  depthwiseOp,
  dwOutLength1d,
  dwSpec1d as spec,
  depthwiseTf,
  keras1dConfig,
  type QDepthwise,
} from './depthwise.js';
import type { WeightedLayer } from './weighted.js';
import { causalAfterPad } from './tfliteFields.js';

export interface DepthwiseConv1DLayer extends WeightedLayer, Window1D {
  kind: 'depthwise1d';
  depthMultiplier: number;
}

export interface QDepthwiseConv1D extends QDepthwise {
  kind: 'depthwise1d';
}

const KIND = 'depthwise1d';
const paddings = paddings1d;

/** The tfjs layer (tfjs has no DepthwiseConv1D): Keras's config and weight names, for model.json. */
class TfDepthwiseConv1D extends tf.layers.Layer {
  static className = 'DepthwiseConv1D';
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  constructor(private readonly l: DepthwiseConv1DLayer) {
    super({ name: l.name });
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const C = (inputShape as number[])[2];
    const M = this.l.depthMultiplier;
    this.kernel = this.addWeight(
      'depthwise_kernel',
      [this.l.kernelSize, C, M],
      'float32',
      tf.initializers.glorotUniform({}),
    );
    if (this.l.useBias) this.bias = this.addWeight('bias', [C * M], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [N, T, C] = inputShape as number[];
    const s = spec(this.l);
    return [N, dwOutLength1d(T, s), C * s.mult];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const s = spec(this.l);
      const k = this.kernel!.read();
      const y = depthwiseTf(x.expandDims(1), k.reshape([1, s.kw, x.shape[2], s.mult]), s, false).squeeze([1]);
      return biasRelu(y, this.bias, this.l.activation);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      ...keras1dConfig(this.l),
    };
  }
}
tf.serialization.registerClass(TfDepthwiseConv1D);

export const depthwise1d = depthwiseOp<DepthwiseConv1DLayer, QDepthwiseConv1D>({
  kind: KIND,
  title: 'DepthwiseConv1D',
  rank: 2,
  spec,
  paddings,
  layer: (base, s, relu) => ({
    ...base,
    kind: KIND,
    kernelSize: s.kw,
    stride: s.sw,
    dilation: s.dw,
    padding: s.padding,
    depthMultiplier: s.mult,
    activation: relu ? 'relu' : 'linear',
    useBias: true,
  }),
  onnx: onnxConv({
    rank: 1,
    depthwise: true,
    paddings,
    layer: (base, w, io): DepthwiseConv1DLayer => ({
      kind: KIND,
      ...base,
      kernelSize: w.kernel[0],
      stride: w.strides[0],
      dilation: w.dilations[0],
      padding: w.padding,
      depthMultiplier: io.multiplier,
      activation: 'linear',
      useBias: io.useBias,
    }),
  }),
  tfjsLayer: (l) => new TfDepthwiseConv1D(l),
  tflite: { opNames: [], fromTflite: () => undefined, absorbPadding: causalAfterPad },
});
