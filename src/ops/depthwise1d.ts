// DepthwiseConv1D: each input channel convolved with its own M filters (depth multiplier), stride,
// dilation, same/valid/causal padding, fused ReLU, bias. The 2D kernel with H = 1 (depthwise.ts).
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ConvPadding } from '../graph/types.js';
import { posInt } from '../qmodel/schemaParts.js';
import {
  depthwiseOp,
  dwArchFields,
  dwKerasCommon,
  depthwiseTf,
  type DwSpec,
  type QDepthwise,
} from './depthwise.js';
import type { WeightedLayer } from './weighted.js';

export interface DepthwiseConv1DLayer extends WeightedLayer {
  kind: 'depthwise1d';
  kernelSize: number;
  stride: number;
  dilation: number;
  padding: ConvPadding;
  depthMultiplier: number;
}

export interface QDepthwiseConv1D extends QDepthwise {
  kind: 'depthwise1d';
}

const KIND = 'depthwise1d';
const paddings = ['same', 'valid', 'causal'] as const;

const archSchema = z.strictObject({
  type: z.literal(KIND),
  ...dwArchFields,
  kernelSize: posInt,
  stride: posInt.default(1),
  dilation: posInt.default(1),
  padding: z.enum(paddings).default('valid'),
});

const spec = (l: DepthwiseConv1DLayer): DwSpec => ({
  kh: 1,
  kw: l.kernelSize,
  sh: 1,
  sw: l.stride,
  dh: 1,
  dw: l.dilation,
  mult: l.depthMultiplier,
  padding: l.padding,
});

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
    const L =
      s.padding === 'valid' ? Math.floor((T - (s.kw - 1) * s.dw - 1) / s.sw) + 1 : Math.ceil(T / s.sw);
    return [N, L, C * s.mult];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const s = spec(this.l);
      const k = this.kernel!.read();
      const y = depthwiseTf(x.expandDims(1), k.reshape([1, s.kw, x.shape[2], s.mult]), s, false).squeeze([1]);
      const z2 = this.bias ? tf.add(y, this.bias.read()) : y;
      return this.l.activation === 'relu' ? tf.relu(z2) : z2;
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
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
  archSchema,
  toLayer(s, name) {
    const a = s as z.output<typeof archSchema>;
    return {
      kind: KIND,
      name,
      kernelSize: a.kernelSize,
      stride: a.stride,
      dilation: a.dilation,
      padding: a.padding,
      depthMultiplier: a.depthMultiplier,
      activation: a.activation,
      useBias: a.useBias,
    };
  },
  fromKeras(l, k) {
    const c = dwKerasCommon(l, k);
    const padding = String(l.config.padding ?? 'valid');
    if (!(paddings as readonly string[]).includes(padding)) k.unsupported(l, `padding '${padding}'`);
    return {
      kind: KIND,
      name: l.name,
      kernelSize: k.one(l.config.kernel_size),
      stride: k.one(l.config.strides ?? 1),
      dilation: k.one(l.config.dilation_rate ?? 1),
      padding: padding as ConvPadding,
      depthMultiplier: c.mult,
      activation: c.activation,
      useBias: c.useBias,
    };
  },
  tfjsLayer: (l) => new TfDepthwiseConv1D(l),
});
