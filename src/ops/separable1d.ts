// SeparableConv1D: a DepthwiseConv1D (stride, dilation, same/valid/causal padding, depth
// multiplier; no bias) then a pointwise Conv1D (kernel 1) with the bias and the fused activation.
// One layer in training and in files; two layers once deployed (separable.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ConvPadding } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import { conv1d, type Conv1DLayer } from './conv1d.js';
import { depthwise1d, type DepthwiseConv1DLayer } from './depthwise1d.js';
import { depthwiseName, separableOp, separableTf, sepArchFields, type SeparableLayer } from './separable.js';
import type { DwSpec } from './depthwise.js';

export interface SeparableConv1DLayer extends SeparableLayer {
  kind: 'separable1d';
  kernelSize: number;
  stride: number;
  dilation: number;
  padding: ConvPadding;
}

const KIND = 'separable1d';
const paddings = ['same', 'valid', 'causal'] as const;

const archSchema = z.strictObject({
  type: z.literal(KIND),
  ...sepArchFields,
  kernelSize: posInt,
  stride: posInt.default(1),
  dilation: posInt.default(1),
  padding: z.enum(paddings).default('valid'),
});

const spec = (l: SeparableConv1DLayer): DwSpec => ({
  kh: 1,
  kw: l.kernelSize,
  sh: 1,
  sw: l.stride,
  dh: 1,
  dw: l.dilation,
  mult: l.depthMultiplier,
  padding: l.padding,
});

function parts(l: SeparableConv1DLayer): { dw: DepthwiseConv1DLayer; pw: Conv1DLayer } {
  return {
    dw: {
      kind: 'depthwise1d',
      name: depthwiseName(l),
      ...(l.inputs ? { inputs: l.inputs } : {}),
      kernelSize: l.kernelSize,
      stride: l.stride,
      dilation: l.dilation,
      padding: l.padding,
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
    const s = spec(this.l);
    const L =
      s.padding === 'valid' ? Math.floor((T - (s.kw - 1) * s.dw - 1) / s.sw) + 1 : Math.ceil(T / s.sw);
    return [N, L, this.l.filters];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const dwK = this.depthwiseKernel!.read();
      const pwK = this.pointwiseKernel!.read();
      const y = separableTf(x.expandDims(1), dwK, pwK, spec(this.l), this.l.filters, false).squeeze([1]);
      const z2 = this.bias ? tf.add(y, this.bias.read()) : y;
      return this.l.activation === 'relu' ? tf.relu(z2) : z2;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.l.filters,
      kernel_size: [this.l.kernelSize],
      strides: [this.l.stride],
      dilation_rate: [this.l.dilation],
      padding: this.l.padding,
      depth_multiplier: this.l.depthMultiplier,
      activation: this.l.activation,
      use_bias: this.l.useBias,
      data_format: 'channels_last',
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
  archSchema,
  toLayer(s, name) {
    const a = s as z.output<typeof archSchema>;
    return {
      kind: KIND,
      name,
      filters: a.filters,
      kernelSize: a.kernelSize,
      stride: a.stride,
      dilation: a.dilation,
      padding: a.padding,
      depthMultiplier: a.depthMultiplier,
      activation: a.activation,
      useBias: a.useBias,
    };
  },
  fromKeras(l, k, c) {
    const padding = String(l.config.padding ?? 'valid');
    if (!(paddings as readonly string[]).includes(padding)) k.unsupported(l, `padding '${padding}'`);
    return {
      kind: KIND,
      name: l.name,
      ...c,
      kernelSize: k.one(l.config.kernel_size),
      stride: k.one(l.config.strides ?? 1),
      dilation: k.one(l.config.dilation_rate ?? 1),
      padding: padding as ConvPadding,
    };
  },
  tfjsLayer: (l) => new TfSeparableConv1D(l),
});
