// SeparableConv1D: a DepthwiseConv1D (stride, dilation, same/valid/causal padding, depth
// multiplier; no bias) then a pointwise Conv1D (kernel 1) with the bias and the fused activation.
// One layer in training and in files; two layers once deployed (separable.ts).
import * as tf from '@tensorflow/tfjs';
import { window1dLayer, type Window1D } from './archFields.js';
import { conv1d, type Conv1DLayer } from './conv1d.js';
import { depthwise1d, type DepthwiseConv1DLayer } from './depthwise1d.js';
import { depthwiseName, separableOp, separableTf, type SeparableLayer } from './separable.js';
import { biasRelu, dwOutLength1d, dwSpec1d as spec, keras1dConfig } from './depthwise.js';

export interface SeparableConv1DLayer extends SeparableLayer, Window1D {
  kind: 'separable1d';
}

const KIND = 'separable1d';

function parts(l: SeparableConv1DLayer): { dw: DepthwiseConv1DLayer; pw: Conv1DLayer } {
  return {
    dw: {
      kind: 'depthwise1d',
      name: depthwiseName(l),
      ...(l.inputs ? { inputs: l.inputs } : {}),
      ...window1dLayer(l),
      depthMultiplier: l.depthMultiplier,
      activation: 'linear',
      useBias: false,
    },
    pw: {
      kind: 'conv1d',
      name: l.name,
      filters: l.filters,
      kernelSize: 1,
      stride: 1,
      padding: 'valid',
      activation: l.activation,
      useBias: l.useBias,
    },
  };
}

/** The tfjs layer (tfjs cannot run SeparableConv1D): Keras's config and weight names, for model.json. */
class TfSeparableConv1D extends tf.layers.Layer {
  static className = 'SeparableConv1D';
  private depthwiseKernel?: tf.LayerVariable;
  private pointwiseKernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;
  constructor(private readonly l: SeparableConv1DLayer) {
    super({ name: l.name });
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const C = (inputShape as number[])[2];
    const { kernelSize: k, depthMultiplier: M, filters: F } = this.l;
    const glorot = tf.initializers.glorotUniform({});
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [k, C, M], 'float32', glorot);
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, C * M, F], 'float32', glorot);
    if (this.l.useBias) this.bias = this.addWeight('bias', [F], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [N, T] = inputShape as number[];
    return [N, dwOutLength1d(T, spec(this.l)), this.l.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const dwK = this.depthwiseKernel!.read();
      const pwK = this.pointwiseKernel!.read();
      const y = separableTf(x.expandDims(1), dwK, pwK, spec(this.l), this.l.filters, false).squeeze([1]);
      return biasRelu(y, this.bias, this.l.activation);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.l.filters,
      ...keras1dConfig(this.l),
    };
  }
}
tf.serialization.registerClass(TfSeparableConv1D);

export const separable1d = separableOp<SeparableConv1DLayer, DepthwiseConv1DLayer, Conv1DLayer>({
  kind: KIND,
  title: 'SeparableConv1D',
  rank: 2,
  spec,
  depthwise: depthwise1d,
  pointwise: conv1d,
  parts,
  tfjsLayer: (l) => new TfSeparableConv1D(l),
});
