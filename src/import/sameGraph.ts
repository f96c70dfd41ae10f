// Whether two IR graphs are the same network whatever their layer names and the order in which a
// file listed independent branches: the same input, and node by node the same kind, attributes,
// producers and inferred output shape. Layers that are the identity at inference (Dropout: a
// .tflite or .onnx file no longer has them) are left out. Importers of different formats of one
// model must agree on this (a Keras .h5, its .keras and its .tflite).
import { inferShapes } from '../graph/ir.js';
import type { Layer, ModelGraph } from '../graph/types.js';
import { opOf } from '../ops/registry.js';

interface Node {
  layer: Layer;
  /** Producers: node positions in the original graph, -1 for the graph input. */
  inputs: number[];
  outShape: number[];
  flat: boolean;
}

/** The graph's nodes without inference-time identities (their readers read what they read). */
function nodes(g: ModelGraph): Map<number, Node> {
  const out = new Map<number, Node>();
  const through = new Map<number, number>();
  const source = (p: number): number => (through.has(p) ? source(through.get(p)!) : p);
  inferShapes(g).forEach((n, i) => {
    if (opOf(n.layer.kind).deploy?.rule === 'identity' && n.inputs.length === 1) through.set(i, n.inputs[0]);
    else out.set(i, { layer: n.layer, inputs: n.inputs.map(source), outShape: n.outShape, flat: n.flat });
  });
  return out;
}

/** FNV-1a of a string: short structural keys. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * A topological order that does not depend on how the file listed independent branches: among the
 * nodes whose inputs are placed, the one with the smallest structural key (kind, shape, and its
 * producers' keys) goes first; ties keep the file's order.
 */
function canonicalOrder(ns: Map<number, Node>): number[] {
  const key = new Map<number, string>([[-1, 'input']]);
  for (const [i, n] of ns)
    key.set(i, hash(`${n.layer.kind}[${n.outShape}](${n.inputs.map((p) => key.get(p)).join(',')})`));
  const placed = new Set<number>([-1]);
  const order: number[] = [];
  while (order.length < ns.size) {
    const ready = [...ns.keys()].filter(
      (i) => !placed.has(i) && ns.get(i)!.inputs.every((p) => placed.has(p)),
    );
    ready.sort((a, b) => (key.get(a)! < key.get(b)! ? -1 : key.get(a)! > key.get(b)! ? 1 : a - b));
    order.push(ready[0]);
    placed.add(ready[0]);
  }
  return order;
}

/** Attributes: everything but the name and the input names (producers are compared by position). */
function attributes(l: Layer): Record<string, unknown> {
  const { name: _n, inputs: _i, ...rest } = l;
  return rest;
}

/** Values agree: numbers within float32 rounding (a TFLite alpha is a float32), the rest structurally. */
function agree(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => agree(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
    const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => agree(ra[k], rb[k]));
  }
  return a === b;
}

const show = (v: unknown) => JSON.stringify(v);

/** The first difference between two graphs, described; undefined when they are the same network. */
export function graphDifference(a: ModelGraph, b: ModelGraph): string | undefined {
  if (!agree(a.inputShape, b.inputShape))
    return `input shapes differ: [${a.inputShape.join(', ')}] and [${b.inputShape.join(', ')}]`;
  const [na, nb] = [nodes(a), nodes(b)];
  const [oa, ob] = [canonicalOrder(na), canonicalOrder(nb)];
  const kinds = (ns: Map<number, Node>, o: number[]) => o.map((i) => ns.get(i)!.layer.kind).join(', ');
  if (oa.length !== ob.length)
    return `${oa.length} layers (${kinds(na, oa)}) and ${ob.length} layers (${kinds(nb, ob)})`;
  // Producers as positions in the canonical order.
  const pos = (o: number[]) =>
    new Map<number, number>([[-1, -1], ...o.map((i, k) => [i, k] as [number, number])]);
  const [pa, pb] = [pos(oa), pos(ob)];
  for (let k = 0; k < oa.length; k++) {
    const [x, y] = [na.get(oa[k])!, nb.get(ob[k])!];
    const at = `layer ${k} ('${x.layer.name}' and '${y.layer.name}')`;
    if (x.layer.kind !== y.layer.kind) return `${at}: kinds ${x.layer.kind} and ${y.layer.kind}`;
    if (!agree(attributes(x.layer), attributes(y.layer)))
      return `${at}: attributes ${show(attributes(x.layer))} and ${show(attributes(y.layer))}`;
    const [ia, ib] = [x.inputs.map((p) => pa.get(p)), y.inputs.map((p) => pb.get(p))];
    if (!agree(ia, ib)) return `${at}: inputs from layers [${ia}] and [${ib}]`;
    if (!agree(x.outShape, y.outShape) || x.flat !== y.flat)
      return `${at}: output shapes [${x.outShape.join(', ')}] and [${y.outShape.join(', ')}]`;
  }
  return undefined;
}
