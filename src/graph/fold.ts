// Turning a trained graph into the graph that gets deployed: BatchNorm folded into the preceding
// Conv1D/Dense, Dropout removed (identity at inference), a ReLU right after a linear Conv1D/Dense
// fused into it. Each step keeps the model's inference output unchanged (up to float rounding).
import { TinyforgeError } from '../util/errors.js';
import type { FloatModel, Layer, LayerParams } from './ir.js';
import { inferShapes } from './ir.js';

/** Dropout is the identity at inference. */
export function removeDropout(model: FloatModel): FloatModel {
  return {
    graph: { ...model.graph, layers: model.graph.layers.filter((l) => l.kind !== 'dropout') },
    params: model.params,
  };
}

/**
 * Folds every BatchNorm into the Conv1D/Dense right before it (Dropout in between is skipped):
 *   s = gamma / sqrt(var + eps);  W'[..., o] = W[..., o] * s[o];  b'[o] = (b[o] - mean[o]) * s[o] + beta[o].
 * A BatchNorm elsewhere (first layer, after pooling or a ReLU) cannot be folded: TinyforgeError 'model'.
 */
export function foldBatchNorm(model: FloatModel): FloatModel {
  const layers: Layer[] = [];
  const params: Record<string, LayerParams> = {};
  for (const l of model.graph.layers) {
    if (l.kind !== 'batchnorm') {
      layers.push(l);
      if (model.params[l.name]) params[l.name] = model.params[l.name];
      continue;
    }
    let j = layers.length - 1;
    while (j >= 0 && layers[j].kind === 'dropout') j--;
    const prev = j >= 0 ? layers[j] : undefined;
    if (!prev || (prev.kind !== 'conv1d' && prev.kind !== 'dense') || prev.activation !== 'linear')
      throw new TinyforgeError(
        `batchnorm '${l.name}' cannot be folded: it must directly follow a Conv1D or Dense without activation` +
          (prev
            ? ` (it follows ${prev.kind} '${prev.name}'${'activation' in prev ? ` with activation ${prev.activation}` : ''})`
            : ' (it is the first layer)'),
        'model',
        'put BatchNormalization right after a linear Conv1D/Dense and the ReLU after it',
      );
    const bn = model.params[l.name];
    const p = params[prev.name] ?? model.params[prev.name];
    if (!bn?.gamma || !bn.beta || !bn.movingMean || !bn.movingVariance || !p?.kernel)
      throw new TinyforgeError(
        `batchnorm '${l.name}' or layer '${prev.name}' has missing parameters`,
        'model',
      );
    const out = prev.kind === 'conv1d' ? prev.filters : prev.units;
    if (bn.gamma.length !== out)
      throw new TinyforgeError(
        `batchnorm '${l.name}' has ${bn.gamma.length} channels, '${prev.name}' outputs ${out}`,
        'model',
      );
    const scale = new Float64Array(out);
    for (let o = 0; o < out; o++) scale[o] = bn.gamma[o] / Math.sqrt(bn.movingVariance[o] + l.epsilon);
    const kernel = new Float32Array(p.kernel.length);
    for (let i = 0; i < kernel.length; i++) kernel[i] = p.kernel[i] * scale[i % out]; // output channel is innermost
    const bias = new Float32Array(out);
    for (let o = 0; o < out; o++)
      bias[o] = ((p.bias ? p.bias[o] : 0) - bn.movingMean[o]) * scale[o] + bn.beta[o];
    layers[j] = { ...prev, useBias: true };
    params[prev.name] = { kernel, bias };
  }
  const folded = { graph: { ...model.graph, layers }, params };
  inferShapes(folded.graph);
  return folded;
}

/** A standalone ReLU right after a linear Conv1D/Dense becomes that layer's fused activation. */
export function fuseRelu(model: FloatModel): FloatModel {
  const layers: Layer[] = [];
  for (const l of model.graph.layers) {
    const prev = layers[layers.length - 1];
    if (
      l.kind === 'relu' &&
      prev &&
      (prev.kind === 'conv1d' || prev.kind === 'dense') &&
      prev.activation === 'linear'
    ) {
      layers[layers.length - 1] = { ...prev, activation: 'relu' };
      continue;
    }
    layers.push(l);
  }
  return { graph: { ...model.graph, layers }, params: model.params };
}

/** The inference-only model the compressor and code generator start from. */
export function deployableGraph(model: FloatModel): FloatModel {
  return fuseRelu(foldBatchNorm(removeDropout(model)));
}
