// The functional forward pass over the IR: weights live in tf.Variables keyed by layer name, and
// hooks may rewrite each layer's weights before use (pruning masks, fake quantization) and each
// layer's output (activation quantization), so compression can fine-tune through the same code.
import * as tf from '@tensorflow/tfjs';
import type { FloatModel, Layer, LayerParams, ModelGraph, ParamKey } from '../graph/types.js';
import { inferShapes } from '../graph/ir.js';
import { opOf } from '../ops/registry.js';
import type { TfContext } from '../ops/types.js';
import { Rng } from '../data/prng.js';
import { needsCustomConvGrad } from './backend.js';

export interface LayerVars {
  kernel?: tf.Variable;
  bias?: tf.Variable;
  gamma?: tf.Variable;
  beta?: tf.Variable;
  /** Not trainable: updated from batch statistics in training mode. */
  movingMean?: tf.Variable;
  movingVariance?: tf.Variable;
  /** A separable conv's kernels. */
  depthwiseKernel?: tf.Variable;
  pointwiseKernel?: tf.Variable;
}

/** Variables of a model, keyed by layer name. */
export type ModelVars = Record<string, LayerVars>;

export interface ForwardHooks {
  /** Replaces a layer's kernel or bias before use (e.g. w * mask, fakeQuant(w)). */
  weight?: (layer: Layer, name: WeightKey, w: tf.Tensor) => tf.Tensor;
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

const PARAM_KEYS = [
  'kernel',
  'bias',
  'gamma',
  'beta',
  'movingMean',
  'movingVariance',
  'depthwiseKernel',
  'pointwiseKernel',
] as const satisfies readonly ParamKey[];

/** The parameters weight hooks see: kernels and biases (not BatchNorm statistics). */
const WEIGHT_KEYS = [
  'kernel',
  'bias',
  'depthwiseKernel',
  'pointwiseKernel',
] as const satisfies readonly ParamKey[];
export type WeightKey = (typeof WEIGHT_KEYS)[number];
const isWeightKey = (k: ParamKey): k is WeightKey => (WEIGHT_KEYS as readonly ParamKey[]).includes(k);

/** Keras-default initial weights (Glorot uniform kernels, zero biases, BN identity), seeded. */
export function initParams(graph: ModelGraph, seed: number): Record<string, LayerParams> {
  const rng = Rng.derive(seed, 'init');
  const params: Record<string, LayerParams> = {};
  for (const info of inferShapes(graph)) {
    const specs = opOf(info.layer.kind).params?.(info.layer, info) ?? [];
    if (specs.length === 0) continue;
    const p: LayerParams = {};
    for (const spec of specs) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (typeof spec.init === 'object') {
        const [fanIn, fanOut] = spec.init.glorot;
        const limit = Math.sqrt(6 / (fanIn + fanOut));
        p[spec.key] = Float32Array.from({ length: n }, () => rng.uniform(-limit, limit));
      } else p[spec.key] = new Float32Array(n).fill(spec.init === 'ones' ? 1 : 0);
    }
    params[info.layer.name] = p;
  }
  return params;
}

/** tf.Variables holding a model's parameters (shapes from each operator's parameter list). */
export function createVars(model: FloatModel): ModelVars {
  const vars: ModelVars = {};
  for (const info of inferShapes(model.graph)) {
    const l = info.layer;
    const specs = opOf(l.kind).params?.(l, info) ?? [];
    if (specs.length === 0) continue;
    const lv: LayerVars = {};
    for (const spec of specs) {
      const a = model.params[l.name]?.[spec.key];
      if (!a) throw new RangeError(`layer '${l.name}' has no '${spec.key}' parameter`);
      lv[spec.key] = tf.variable(tf.tensor(a, spec.shape, 'float32'), spec.trainable);
    }
    vars[l.name] = lv;
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
  const customGrad = training && needsCustomConvGrad();
  const infos = inferShapes(graph);
  const outputs: tf.Tensor[] = [];
  const last = graph.layers.length - 1;
  infos.forEach(({ layer, inputs }, idx) => {
    const lv = vars[layer.name] ?? {};
    const ctx: TfContext = {
      training,
      customGrad,
      logitsOut: logits && idx === last,
      rng: opts.rng,
      bnMomentum,
      variable: (key) => lv[key],
      param(key) {
        const v = lv[key];
        return v && hooks.weight && isWeightKey(key) ? hooks.weight(layer, key, v) : v;
      },
    };
    let h = opOf(layer.kind).tfjs.forward(
      layer,
      inputs.map((p) => (p < 0 ? x : outputs[p])),
      ctx,
    );
    if (hooks.activation) h = hooks.activation(layer, h);
    outputs.push(h);
  });
  return outputs[last] ?? x;
}
