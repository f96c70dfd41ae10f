// Pruning: unstructured magnitude pruning (masks kept during fine-tuning so pruned weights stay
// zero) and structured pruning of whole Conv1D filters (the graph shrinks, so compute shrinks too).
import { inferShapes, type FloatModel, type Layer, type LayerParams } from '../graph/ir.js';
import { TinyforgeError } from '../util/errors.js';

/** 1 = keep, 0 = pruned; same length and layout as the layer's kernel. */
export type Masks = Record<string, Uint8Array>;

export type PruneScope = 'layer' | 'global';

function prunable(model: FloatModel): Layer[] {
  return model.graph.layers.filter(
    (l) => (l.kind === 'conv1d' || l.kind === 'dense') && model.params[l.name]?.kernel,
  );
}

/** Masks that zero the `sparsity` fraction of smallest-magnitude weights, per layer or over all layers. */
export function magnitudeMasks(model: FloatModel, sparsity: number, scope: PruneScope = 'layer'): Masks {
  if (!(sparsity >= 0 && sparsity < 1))
    throw new TinyforgeError(`sparsity must be in [0, 1), got ${sparsity}`, 'usage');
  const layers = prunable(model);
  const masks: Masks = {};
  const thresholdOf = (values: number[]): number => {
    const k = Math.floor(values.length * sparsity);
    if (k === 0) return -1;
    values.sort((a, b) => a - b);
    return values[k - 1];
  };
  const globalThreshold =
    scope === 'global'
      ? thresholdOf(layers.flatMap((l) => Array.from(model.params[l.name].kernel!, Math.abs)))
      : 0;
  for (const l of layers) {
    const w = model.params[l.name].kernel!;
    const th = scope === 'global' ? globalThreshold : thresholdOf(Array.from(w, Math.abs));
    const m = new Uint8Array(w.length);
    // Ties at the threshold: prune exactly k weights in per-layer mode by counting.
    let toPrune = scope === 'layer' ? Math.floor(w.length * sparsity) : Infinity;
    for (let i = 0; i < w.length; i++) {
      const a = Math.abs(w[i]);
      if (a < th || (a === th && toPrune > 0)) {
        m[i] = 0;
        toPrune--;
      } else m[i] = 1;
    }
    if (scope === 'layer') {
      // Strictly-below weights were pruned first; fix the count if ties were visited early.
      let pruned = m.reduce((s, v) => s + (v ? 0 : 1), 0);
      for (let i = 0; i < w.length && pruned > Math.floor(w.length * sparsity); i++)
        if (!m[i] && Math.abs(w[i]) === th) {
          m[i] = 1;
          pruned--;
        }
    }
    masks[l.name] = m;
  }
  return masks;
}

export function applyMasks(model: FloatModel, masks: Masks): FloatModel {
  const params: Record<string, LayerParams> = { ...model.params };
  for (const [name, m] of Object.entries(masks)) {
    const w = Float32Array.from(params[name].kernel!);
    for (let i = 0; i < w.length; i++) if (!m[i]) w[i] = 0;
    params[name] = { ...params[name], kernel: w };
  }
  return { graph: model.graph, params };
}

/** Gradual pruning schedule (Zhu & Gupta 2017): sparsity rises as a cubic towards the target. */
export function sparsityAt(step: number, totalSteps: number, target: number): number {
  if (totalSteps <= 0 || step >= totalSteps) return target;
  return target * (1 - (1 - step / totalSteps) ** 3);
}

export interface LayerSparsity {
  layer: string;
  weights: number;
  zeros: number;
  sparsity: number;
}

export function sparsityReport(model: FloatModel): LayerSparsity[] {
  return prunable(model).map((l) => {
    const w = model.params[l.name].kernel!;
    const zeros = w.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
    return { layer: l.name, weights: w.length, zeros, sparsity: zeros / w.length };
  });
}

/**
 * Structured pruning: removes the `fraction` of filters with the smallest L1 norm from every Conv1D
 * (at least one filter kept) and the matching input channels of the next Conv1D/Dense/BatchNorm.
 */
export function pruneFilters(model: FloatModel, fraction: number): FloatModel {
  if (!(fraction >= 0 && fraction < 1))
    throw new TinyforgeError(`filter fraction must be in [0, 1), got ${fraction}`, 'usage');
  const infos = inferShapes(model.graph);
  const layers = model.graph.layers.map((l) => ({ ...l }));
  const params: Record<string, LayerParams> = {};
  for (const [k, v] of Object.entries(model.params)) params[k] = { ...v };
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li];
    if (layer.kind !== 'conv1d') continue;
    const p = params[layer.name];
    const w = p.kernel!;
    const Co = layer.filters;
    const kin = w.length / Co; // k * Cin
    const norms = Array.from({ length: Co }, (_, o) => {
      let s = 0;
      for (let i = 0; i < kin; i++) s += Math.abs(w[i * Co + o]);
      return { o, s };
    });
    const drop = Math.min(Math.floor(Co * fraction), Co - 1);
    if (drop === 0) continue;
    const keep = norms
      .sort((a, b) => b.s - a.s)
      .slice(0, Co - drop)
      .map((e) => e.o)
      .sort((a, b) => a - b);
    p.kernel = selectLast(w, Co, keep);
    if (p.bias) p.bias = Float32Array.from(keep, (o) => p.bias![o]);
    (layer as { filters: number }).filters = keep.length;
    // Walk forward to the consumer of these channels.
    for (let nj = li + 1; nj < layers.length; nj++) {
      const next = layers[nj];
      const np = params[next.name];
      if (next.kind === 'batchnorm') {
        for (const key of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const)
          if (np[key]) np[key] = Float32Array.from(keep, (o) => np[key]![o]);
        continue;
      }
      if (next.kind === 'conv1d') {
        // kernel [k, Cin, Co]: keep input channels.
        const k = next.kernelSize;
        const nCo = next.filters;
        const old = np.kernel!;
        const out = new Float32Array(k * keep.length * nCo);
        for (let j = 0; j < k; j++)
          keep.forEach((c, ci) => {
            for (let o = 0; o < nCo; o++) out[(j * keep.length + ci) * nCo + o] = old[(j * Co + c) * nCo + o];
          });
        np.kernel = out;
        break;
      }
      if (next.kind === 'dense') {
        // Features are t*C + c over the (pooled) sequence this conv feeds; T from the shapes.
        // Input features are t*Co + c (after Flatten) or c (after GAP): T = F / Co either way.
        const T = (infos[nj].inShape[0] * infos[nj].inShape[1]) / Co;
        const units = next.units;
        const old = np.kernel!;
        const out = new Float32Array(T * keep.length * units);
        for (let t = 0; t < T; t++)
          keep.forEach((c, ci) => {
            for (let o = 0; o < units; o++)
              out[(t * keep.length + ci) * units + o] = old[(t * Co + c) * units + o];
          });
        np.kernel = out;
        break;
      }
    }
  }
  return { graph: { ...model.graph, layers: layers as Layer[] }, params };
}

/** Keeps entries of the last axis (size n) listed in `keep`. */
function selectLast(a: Float32Array, n: number, keep: number[]): Float32Array {
  const rows = a.length / n;
  const out = new Float32Array(rows * keep.length);
  for (let r = 0; r < rows; r++) keep.forEach((o, i) => (out[r * keep.length + i] = a[r * n + o]));
  return out;
}
