// Shape inference over the model graph (types in types.ts): each node's operator module infers
// its output from its inputs; the result is computed once per graph object and cached.
import { TinyforgeError } from '../util/errors.js';
import { opOf } from '../ops/registry.js';
import { GRAPH_INPUT, type Layer, type ModelGraph, type NodeInfo, type TensorInfo } from './types.js';

export * from './types.js';

/** Producer indices of a node's inputs (-1 = graph input), checked against earlier nodes. */
function resolveInputs(layer: Layer, index: number, indexOf: Map<string, number>): number[] {
  if (!layer.inputs) return [index - 1];
  if (layer.inputs.length === 0)
    throw new TinyforgeError(`layer '${layer.name}' (${layer.kind}) has an empty input list`, 'model');
  return layer.inputs.map((name) => {
    if (name === GRAPH_INPUT) return -1;
    const at = indexOf.get(name);
    if (at === undefined)
      throw new TinyforgeError(
        `layer '${layer.name}' (${layer.kind}) reads '${name}', which no earlier layer produces`,
        'model',
        'list layers in execution order; inputs name earlier layers',
      );
    return at;
  });
}

function analyze(graph: ModelGraph): NodeInfo[] {
  const input: TensorInfo = { shape: [...graph.inputShape], flat: false };
  const infos: NodeInfo[] = [];
  const indexOf = new Map<string, number>();
  graph.layers.forEach((layer, i) => {
    if (indexOf.has(layer.name) || layer.name === GRAPH_INPUT)
      throw new TinyforgeError(`duplicate layer name '${layer.name}'`, 'model');
    const inputs = resolveInputs(layer, i, indexOf);
    const ins = inputs.map((p) => (p < 0 ? input : { shape: infos[p].outShape, flat: infos[p].flat }));
    const fail = (why: string): never => {
      const shapes = ins.map((t) => `[${t.shape.join(', ')}]`).join(' and ');
      throw new TinyforgeError(
        `layer '${layer.name}' (${layer.kind}) cannot take input shape ${shapes}: ${why}`,
        'model',
      );
    };
    const r = opOf(layer.kind).infer(layer, ins, fail);
    infos.push({
      layer,
      inputs,
      inShapes: ins.map((t) => [...t.shape]),
      inShape: [...ins[0].shape],
      outShape: [...r.shape],
      flat: r.flat,
      params: r.params ?? 0,
      macs: r.macs ?? 0,
    });
    indexOf.set(layer.name, i);
  });
  return infos;
}

// Graphs are values: every transformation builds a new graph object, so the analysis of one graph
// object never goes stale and is computed once however many stages ask for it.
const analyses = new WeakMap<ModelGraph, NodeInfo[]>();

/** Infers and checks shapes (once per graph object); throws naming the layer on a mismatch. */
export function inferShapes(graph: ModelGraph): NodeInfo[] {
  let infos = analyses.get(graph);
  if (!infos || infos.length !== graph.layers.length || infos.some((n, i) => n.layer !== graph.layers[i])) {
    infos = analyze(graph);
    analyses.set(graph, infos);
  }
  return infos;
}

/** Last node that reads each node's output (its index itself when nothing does). */
export function lastUses(infos: readonly NodeInfo[]): number[] {
  const last = infos.map((_, i) => i);
  infos.forEach((n, j) => n.inputs.forEach((p) => p >= 0 && (last[p] = Math.max(last[p], j))));
  return last;
}

export function totalParams(graph: ModelGraph): number {
  return inferShapes(graph).reduce((s, n) => s + n.params, 0);
}

export function totalMacs(graph: ModelGraph): number {
  return inferShapes(graph).reduce((s, n) => s + n.macs, 0);
}
