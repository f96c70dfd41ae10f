// The functional forward pass over the IR: weights live in tf.Variables keyed by layer name, and
// hooks may rewrite each layer's weights before use (pruning masks, fake quantization) and each
// layer's output (activation quantization), so compression can fine-tune through the same code.
import * as tf from '@tensorflow/tfjs';
import type { FloatModel, Layer, LayerParams, ModelGraph } from '../graph/ir.js';
import { inferShapes } from '../graph/ir.js';
import { Rng } from '../data/prng.js';
import { needsCustomConvGrad } from './backend.js';
import { conv1dCustomGrad } from './conv1d.js';

export interface LayerVars {
  kernel?: tf.Variable;
  bias?: tf.Variable;
  gamma?: tf.Variable;
  beta?: tf.Variable;
  /** Not trainable: updated from batch statistics in training mode. */
  movingMean?: tf.Variable;
  movingVariance?: tf.Variable;
}

/** Variables of a model, keyed by layer name. */
export type ModelVars = Record<string, LayerVars>;

export interface ForwardHooks {
  /** Replaces a Conv1D/Dense weight tensor before use (e.g. w * mask, fakeQuant(w)). */
  weight?: (layer: Layer, name: 'kernel' | 'bias', w: tf.Tensor) => tf.Tensor;
  /** Replaces a layer's output (after its fused activation). */
  activation?: (layer: Layer, y: tf.Tensor) => tf.Tensor;
}

export interface ForwardOptions {
  /** Dropout active, BatchNorm uses and updates batch statistics. */
  training?: boolean;
  hooks?: ForwardHooks;
  /** Stop before a trailing Softmax and return logits (what the loss wants). */
  logits?: boolean;
  /** Seeds for dropout masks; required for reproducible training with Dropout layers. */
  rng?: Rng;
  /** Moving-average momentum of BatchNorm statistics in training mode (Keras: 0.99). */
  bnMomentum?: number;
}

const PARAM_KEYS = ['kernel', 'bias', 'gamma', 'beta', 'movingMean', 'movingVariance'] as const;

/** Keras-default initial weights (Glorot uniform kernels, zero biases, BN identity), seeded. */
export function initParams(graph: ModelGraph, seed: number): Record<string, LayerParams> {
  const rng = Rng.derive(seed, 'init');
  const params: Record<string, LayerParams> = {};
  const glorot = (n: number, fanIn: number, fanOut: number): Float32Array => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: n }, () => rng.uniform(-limit, limit));
  };
  for (const info of inferShapes(graph)) {
    const l = info.layer;
    const cIn = info.inShape[1];
    if (l.kind === 'conv1d') {
      params[l.name] = {
        kernel: glorot(l.kernelSize * cIn * l.filters, l.kernelSize * cIn, l.kernelSize * l.filters),
        bias: l.useBias ? new Float32Array(l.filters) : undefined,
      };
    } else if (l.kind === 'dense') {
      const F = info.inShape[0] * info.inShape[1];
      params[l.name] = {
        kernel: glorot(F * l.units, F, l.units),
        bias: l.useBias ? new Float32Array(l.units) : undefined,
      };
    } else if (l.kind === 'batchnorm') {
      params[l.name] = {
        gamma: new Float32Array(cIn).fill(1),
        beta: new Float32Array(cIn),
        movingMean: new Float32Array(cIn),
        movingVariance: new Float32Array(cIn).fill(1),
      };
    }
  }
  return params;
}

/** tf.Variables holding a model's parameters (shapes from the graph). */
export function createVars(model: FloatModel): ModelVars {
  const vars: ModelVars = {};
  for (const info of inferShapes(model.graph)) {
    const l = info.layer;
    const p = model.params[l.name];
    const cIn = info.inShape[1];
    const make = (a: Float32Array | undefined, shape: number[], trainable = true): tf.Variable | undefined =>
      a ? tf.variable(tf.tensor(a, shape, 'float32'), trainable) : undefined;
    if (l.kind === 'conv1d') {
      vars[l.name] = {
        kernel: make(p?.kernel, [l.kernelSize, cIn, l.filters]),
        bias: make(p?.bias, [l.filters]),
      };
    } else if (l.kind === 'dense') {
      vars[l.name] = {
        kernel: make(p?.kernel, [info.inShape[0] * cIn, l.units]),
        bias: make(p?.bias, [l.units]),
      };
    } else if (l.kind === 'batchnorm') {
      vars[l.name] = {
        gamma: make(p?.gamma, [cIn]),
        beta: make(p?.beta, [cIn]),
        movingMean: make(p?.movingMean, [cIn], false),
        movingVariance: make(p?.movingVariance, [cIn], false),
      };
    }
    const need = l.kind === 'batchnorm' ? ['gamma', 'beta', 'movingMean', 'movingVariance'] : ['kernel'];
    if (l.kind === 'conv1d' || l.kind === 'dense') {
      if (l.useBias) need.push('bias');
    }
    for (const k of l.kind === 'conv1d' || l.kind === 'dense' || l.kind === 'batchnorm' ? need : [])
      if (!vars[l.name][k as keyof LayerVars])
        throw new RangeError(`layer '${l.name}' has no '${k}' parameter`);
  }
  return vars;
}

/** Current values of the variables as plain arrays. */
export function readParams(vars: ModelVars): Record<string, LayerParams> {
  const out: Record<string, LayerParams> = {};
  for (const [name, lv] of Object.entries(vars)) {
    const p: LayerParams = {};
    for (const k of PARAM_KEYS) {
      const v = lv[k];
      if (v) p[k] = Float32Array.from(v.dataSync() as Float32Array);
    }
    out[name] = p;
  }
  return out;
}

/** Every variable (trainable ones only when `trainableOnly`), in graph order. */
export function listVars(vars: ModelVars, trainableOnly = true): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const lv of Object.values(vars))
    for (const k of PARAM_KEYS) {
      const v = lv[k];
      if (v && (!trainableOnly || v.trainable)) out.push(v);
    }
  return out;
}

export function disposeVars(vars: ModelVars): void {
  for (const v of listVars(vars, false)) v.dispose();
}

function conv1d(
  x: tf.Tensor3D,
  w: tf.Tensor3D,
  stride: number,
  padding: 'same' | 'valid',
  custom: boolean,
): tf.Tensor3D {
  return custom ? conv1dCustomGrad(x, w, stride, padding) : tf.conv1d(x, w, stride, padding);
}

function pool1d(
  x: tf.Tensor3D,
  kind: 'maxpool1d' | 'avgpool1d',
  size: number,
  stride: number,
  padding: 'same' | 'valid',
) {
  const x4 = x.expandDims(2) as tf.Tensor4D; // [N, L, 1, C]
  const y =
    kind === 'maxpool1d'
      ? tf.maxPool(x4, [size, 1], [stride, 1], padding)
      : tf.avgPool(x4, [size, 1], [stride, 1], padding);
  return y.squeeze([2]) as tf.Tensor3D;
}

/**
 * Runs the graph on x [N, T, C]; returns [N, K] (probabilities, or logits with `logits`).
 * Call inside tf.tidy / an optimizer closure: intermediate tensors are not disposed here.
 */
export function forward(
  graph: ModelGraph,
  vars: ModelVars,
  x: tf.Tensor,
  opts: ForwardOptions = {},
): tf.Tensor {
  const { training = false, hooks = {}, logits = false, bnMomentum = 0.99 } = opts;
  const custom = training && needsCustomConvGrad();
  let h = x;
  const last = graph.layers.length - 1;
  graph.layers.forEach((layer, idx) => {
    const lv = vars[layer.name];
    const w = (name: 'kernel' | 'bias', v: tf.Variable | undefined): tf.Tensor | undefined =>
      v === undefined ? undefined : hooks.weight ? hooks.weight(layer, name, v) : v;
    switch (layer.kind) {
      case 'conv1d': {
        const k = w('kernel', lv.kernel)! as tf.Tensor3D;
        let y: tf.Tensor = conv1d(h as tf.Tensor3D, k, layer.stride, layer.padding, custom);
        const b = w('bias', lv.bias);
        if (b) y = tf.add(y, b);
        h = layer.activation === 'relu' ? tf.relu(y) : y;
        break;
      }
      case 'dense': {
        const h2 = h.rank === 2 ? (h as tf.Tensor2D) : (h.reshape([h.shape[0], -1]) as tf.Tensor2D);
        let y: tf.Tensor = tf.matMul(h2, w('kernel', lv.kernel)! as tf.Tensor2D);
        const b = w('bias', lv.bias);
        if (b) y = tf.add(y, b);
        h = layer.activation === 'relu' ? tf.relu(y) : y;
        break;
      }
      case 'maxpool1d':
      case 'avgpool1d':
        h = pool1d(h as tf.Tensor3D, layer.kind, layer.poolSize, layer.stride, layer.padding);
        break;
      case 'gap1d':
        h = tf.mean(h, 1);
        break;
      case 'flatten':
        h = h.reshape([h.shape[0], -1]);
        break;
      case 'relu':
        h = tf.relu(h);
        break;
      case 'softmax':
        if (!(logits && idx === last)) h = tf.softmax(h);
        break;
      case 'dropout':
        if (training && layer.rate > 0) h = tf.dropout(h, layer.rate, undefined, opts.rng?.seed());
        break;
      case 'batchnorm': {
        const axes = Array.from({ length: h.rank - 1 }, (_, i) => i);
        let mean: tf.Tensor;
        let variance: tf.Tensor;
        if (training) {
          ({ mean, variance } = tf.moments(h, axes));
          const m = bnMomentum;
          // Moving statistics are state, not part of the gradient.
          const sm = mean;
          const sv = variance;
          lv.movingMean!.assign(tf.add(tf.mul(lv.movingMean!, m), tf.mul(sm, 1 - m)));
          lv.movingVariance!.assign(tf.add(tf.mul(lv.movingVariance!, m), tf.mul(sv, 1 - m)));
        } else {
          mean = lv.movingMean!;
          variance = lv.movingVariance!;
        }
        h = tf.batchNorm(h, mean, variance, lv.beta, lv.gamma, layer.epsilon);
        break;
      }
    }
    if (hooks.activation) h = hooks.activation(layer, h);
  });
  return h;
}
