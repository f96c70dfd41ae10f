// Turning a trained graph into the graph that gets deployed, by each operator's deploy rule
// (src/ops): identities at inference removed (Dropout), composite layers expanded into the layers
// the target runs (a separable conv: depthwise, then pointwise), per-channel affine layers folded into the
// weighted layer before them (BatchNorm), an activation right after a linear weighted layer fused
// into it (ReLU). Each step keeps the model's inference output unchanged (up to float rounding).
import { TinyforgeError } from '../util/errors.js';
import { opOf } from '../ops/registry.js';
import type { DeployRule } from '../ops/types.js';
import { channelsOf, type FloatModel, type Layer, type LayerParams } from './types.js';
import { inferShapes } from './ir.js';

/**
 * A node's single input, resolved to the node that produces it (after earlier rewrites); identities
 * at inference (Dropout) in between are looked through, as inference does.
 */
function producerOf(layers: Layer[], l: Layer, renamed: Map<string, string>): number {
  const name = l.inputs ? l.inputs[0] : layers[layers.length - 1]?.name;
  const resolved = name === undefined ? undefined : (renamed.get(name) ?? name);
  const at = layers.findIndex((p) => p.name === resolved);
  if (at < 0 || opOf(layers[at].kind).deploy?.rule !== 'identity') return at;
  return producerOf(layers.slice(0, at), layers[at], renamed);
}

/** Renames inputs that named a removed node to what that node read. */
function rewire(l: Layer, renamed: Map<string, string>): Layer {
  if (!l.inputs || !l.inputs.some((n) => renamed.has(n))) return l;
  return { ...l, inputs: l.inputs.map((n) => renamed.get(n) ?? n) };
}

type Rule<K extends DeployRule['rule']> = Extract<DeployRule, { rule: K }>;

/** What folding does with a layer: keep it, or remove it (optionally replacing its producer). */
type Outcome = 'keep' | { remove: true; producer?: Layer };

/** How many layers read each tensor (a producer read by others cannot absorb a layer). */
function readers(model: FloatModel): Map<string, number> {
  const count = new Map<string, number>();
  for (const n of inferShapes(model.graph))
    for (const p of n.inputs) {
      const name = p < 0 ? '' : model.graph.layers[p].name;
      count.set(name, (count.get(name) ?? 0) + 1);
    }
  return count;
}

/** Applies one kind of deploy rule to every layer that has it. */
function applyRule<K extends DeployRule['rule']>(
  model: FloatModel,
  rule: K,
  fold: (l: Layer, r: Rule<K>, prev: Layer | undefined, params: Record<string, LayerParams>) => Outcome,
): FloatModel {
  const readBy = readers(model);
  const layers: Layer[] = [];
  const params: Record<string, LayerParams> = { ...model.params };
  const renamed = new Map<string, string>();
  for (const raw of model.graph.layers) {
    const l = rewire(raw, renamed);
    const r = opOf(l.kind).deploy;
    const at = r?.rule === rule ? producerOf(layers, l, renamed) : -1;
    // A producer that others read too keeps its own output: nothing may fold into it.
    const prev = at >= 0 && (readBy.get(layers[at].name) ?? 0) <= 1 ? layers[at] : undefined;
    const outcome = r?.rule === rule ? fold(l, r as Rule<K>, prev, params) : 'keep';
    if (outcome === 'keep') {
      layers.push(l);
      continue;
    }
    // The layer disappears: its readers read what it read.
    const source = at >= 0 ? layers[at].name : l.inputs?.[0];
    if (source !== undefined) renamed.set(l.name, source);
    if (outcome.producer) layers[at] = outcome.producer;
    delete params[l.name];
  }
  const graph = { ...model.graph, layers };
  inferShapes(graph);
  return { graph, params };
}

/** A name no layer of `taken` has: `base`, or `base_2`, `base_3`, ... */
function freshName(base: string, taken: Set<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/**
 * Composite layers become the layers they stand for. The last keeps the layer's name, so its readers
 * need no rewiring; the others get fresh names derived from it (`<name>_<suffix>`).
 */
export function expandComposites(model: FloatModel): FloatModel {
  const infos = inferShapes(model.graph);
  const taken = new Set(model.graph.layers.map((l) => l.name));
  const layers: Layer[] = [];
  const params: Record<string, LayerParams> = { ...model.params };
  for (const info of infos) {
    const l = info.layer;
    const r = opOf(l.kind).deploy;
    if (r?.rule !== 'expand') {
      layers.push(l);
      continue;
    }
    const out = r.expand(l, model.params[l.name] ?? {}, info);
    delete params[l.name];
    const rename = new Map<string, string>();
    out.layers.forEach((e, i) => {
      const name = i === out.layers.length - 1 ? l.name : freshName(e.name, taken);
      rename.set(e.name, name);
      const inputs = e.inputs?.map((n) => rename.get(n) ?? n);
      layers.push({ ...e, name, ...(inputs ? { inputs } : {}) });
      if (out.params[e.name]) params[name] = out.params[e.name];
    });
  }
  const graph = { ...model.graph, layers };
  inferShapes(graph);
  return { graph, params };
}

/** Dropout and other identities at inference are removed. */
export function removeDropout(model: FloatModel): FloatModel {
  return applyRule(model, 'identity', () => ({ remove: true }));
}

function foldError(l: Layer, prev: Layer | undefined): never {
  const act = prev ? opOf(prev.kind).foldable?.activation(prev) : undefined;
  throw new TinyforgeError(
    `${l.kind} '${l.name}' cannot be folded: it must directly follow a Conv1D or Dense without activation` +
      (prev
        ? ` (it follows ${prev.kind} '${prev.name}'${act !== undefined ? ` with activation ${act}` : ''})`
        : ' (it is the first layer)'),
    'model',
    'put BatchNormalization right after a linear Conv1D/Dense and the ReLU after it',
  );
}

/**
 * Folds every BatchNorm into the weighted layer right before it:
 *   s = gamma / sqrt(var + eps);  W'[..., o] = W[..., o] * s[o];  b'[o] = (b[o] - mean[o]) * s[o] + beta[o].
 * A BatchNorm elsewhere (first layer, after pooling or a ReLU) cannot be folded: TinyforgeError 'model'.
 */
export function foldBatchNorm(model: FloatModel): FloatModel {
  // Producers' output channels from shape inference (a depthwise conv's follow its input).
  const channels = new Map(inferShapes(model.graph).map((n) => [n.layer.name, channelsOf(n.outShape)]));
  return applyRule(model, 'affine', (l, r, prev, params) => {
    const f = prev ? opOf(prev.kind).foldable : undefined;
    if (!prev || !f || f.activation(prev) !== 'linear') foldError(l, prev);
    const p = params[prev.name];
    const bn = params[l.name];
    if (!p?.kernel || !bn)
      throw new TinyforgeError(
        `${l.kind} '${l.name}' or layer '${prev.name}' has missing parameters`,
        'model',
      );
    const { mean, scale, beta } = r.affine(l, bn);
    const out = channels.get(prev.name)!;
    if (scale.length !== out)
      throw new TinyforgeError(
        `${l.kind} '${l.name}' has ${scale.length} channels, '${prev.name}' outputs ${out}`,
        'model',
      );
    const kernel = new Float32Array(p.kernel.length);
    for (let i = 0; i < kernel.length; i++) kernel[i] = p.kernel[i] * scale[i % out]; // output channel is innermost
    const bias = new Float32Array(out);
    for (let o = 0; o < out; o++) bias[o] = ((p.bias ? p.bias[o] : 0) - mean[o]) * scale[o] + beta[o];
    params[prev.name] = { kernel, bias };
    return { remove: true, producer: f.withBias(prev) };
  });
}

/** An activation layer right after a weighted layer becomes its fused activation (relu∘relu = relu). */
export function fuseRelu(model: FloatModel): FloatModel {
  return applyRule(model, 'activation', (l, r, prev) => {
    const f = prev ? opOf(prev.kind).foldable : undefined;
    if (!prev || !f || (f.activation(prev) !== 'linear' && f.activation(prev) !== r.activation))
      return 'keep';
    return { remove: true, producer: f.withActivation(prev, r.activation) };
  });
}

/** The inference-only model the compressor and code generator start from. */
export function deployableGraph(model: FloatModel): FloatModel {
  return fuseRelu(foldBatchNorm(expandComposites(removeDropout(model))));
}
