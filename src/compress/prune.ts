// Pruning: unstructured magnitude pruning (masks kept during fine-tuning so pruned weights stay
// zero) and structured pruning of whole filters (the graph shrinks, so compute shrinks too).
import { inferShapes } from '../graph/ir.js';
import type { FloatModel, Layer, LayerParams } from '../graph/types.js';
import { opOf } from '../ops/registry.js';
import { TinyforgeError } from '../util/errors.js';

/** 1 = keep, 0 = pruned; same length and layout as the layer's kernel. */
export type Masks = Record<string, Uint8Array>;

export type PruneScope = 'layer' | 'global';

/** Layers with a weight matrix (their operator lays it out in rows) and weights loaded. */
function prunable(model: FloatModel): Layer[] {
  return model.graph.layers.filter((l) => opOf(l.kind).weights && model.params[l.name]?.kernel);
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
 * Structured pruning: removes the `fraction` of filters with the smallest L1 norm from every layer
 * whose operator can drop whole filters (at least one kept), and the matching input channels of the
 * layers that read them, up to the first that consumes the channels (each operator says how).
 */
export function pruneFilters(model: FloatModel, fraction: number): FloatModel {
  if (!(fraction >= 0 && fraction < 1))
    throw new TinyforgeError(`filter fraction must be in [0, 1), got ${fraction}`, 'usage');
  const infos = inferShapes(model.graph);
  // The walk below follows the chain; with branches a pruned tensor also reaches layers off it
  // (a residual Add would sum mismatched channels), so such graphs are refused, not half pruned.
  const branchy = infos.find((n, i) => n.inputs.length !== 1 || n.inputs[0] !== i - 1);
  if (branchy)
    throw new TinyforgeError(
      `structured pruning needs a chain of layers, but layer '${branchy.layer.name}' reads ${branchy.inputs.length > 1 ? 'several tensors' : 'a tensor other than the previous output'}`,
      'usage',
      'prune single weights instead (--prune without --structured)',
    );
  const layers = [...model.graph.layers];
  const params: Record<string, LayerParams> = { ...model.params };
  for (let li = 0; li < layers.length; li++) {
    const op = opOf(layers[li].kind);
    const keepOutputs = op.pruning?.keepOutputs;
    if (!keepOutputs || !op.foldable) continue;
    const layer = layers[li];
    const p = params[layer.name];
    const Co = op.foldable.outChannels(layer);
    const keep = strongestFilters(p.kernel!, Co, fraction);
    if (keep.length === Co) continue;
    const pruned = keepOutputs(layer, p, keep);
    layers[li] = pruned.layer;
    params[layer.name] = pruned.params;
    // Walk forward through the layers that pass channels on, to the one that consumes them.
    let [kept, channels] = [keep, Co];
    for (let nj = li + 1; nj < layers.length; nj++) {
      const next = layers[nj];
      const consumer = opOf(next.kind).pruning;
      if (!consumer) break;
      const r = consumer.keepInputs(next, params[next.name] ?? {}, kept, channels, infos[nj]);
      if (params[next.name]) params[next.name] = r.params;
      if (r.stop) break;
      if (r.passOn) [kept, channels] = [r.passOn.keep, r.passOn.channels];
    }
  }
  return { graph: { ...model.graph, layers }, params };
}

/** Output channels to keep: all but the `fraction` with the smallest L1 norm, in channel order. */
function strongestFilters(w: Float32Array, Co: number, fraction: number): number[] {
  const kin = w.length / Co; // weights per filter (output channel innermost)
  const norms = Array.from({ length: Co }, (_, o) => {
    let s = 0;
    for (let i = 0; i < kin; i++) s += Math.abs(w[i * Co + o]);
    return { o, s };
  });
  const drop = Math.min(Math.floor(Co * fraction), Co - 1);
  return norms
    .sort((a, b) => b.s - a.s)
    .slice(0, Co - drop)
    .map((e) => e.o)
    .sort((a, b) => a - b);
}
