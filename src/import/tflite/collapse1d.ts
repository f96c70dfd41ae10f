// Keras 1D layers come back as 1D layers. TensorFlow runs Conv1D (and 1D pooling, depthwise, zero
// padding) as the 2D operator on [1, W, C] between EXPAND_DIMS and SQUEEZE/RESHAPE, so after the
// operator-by-operator conversion a 1D model is a chain of 2D layers on "unit rows" [1, W, C]
// between reshapes. This pass takes each connected group of unit-row tensors and, when every layer
// that writes or reads one of them has a form on [W, C] (its module's `tflite.collapse1d`, or the
// same layer when its shape inference agrees: activations, Add, Flatten, Reshape), rewrites the
// group on [W, C]. The reshapes around it then change nothing and go (layout.ts). Parameters keep
// their memory layout ([1, k, Cin, Cout] is [k, Cin, Cout]), so they stay as they are.
import { inferShapes } from '../../graph/ir.js';
import type { Layer, ModelGraph, NodeInfo, TensorInfo } from '../../graph/types.js';
import { opOf } from '../../ops/registry.js';

const isRow = (n: NodeInfo) => !n.flat && n.outShape.length === 3 && n.outShape[0] === 1;

/** Groups of unit-row layers connected through the layers that read them. */
function rowGroups(infos: NodeInfo[]): Set<number>[] {
  const parent = infos.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const join = (a: number, b: number) => void (parent[find(a)] = find(b));
  infos.forEach((n, j) => {
    const rows = n.inputs.filter((p) => p >= 0 && isRow(infos[p]));
    if (isRow(n)) rows.forEach((p) => join(p, j));
    rows.slice(1).forEach((p) => join(p, rows[0]));
  });
  const groups = new Map<number, Set<number>>();
  infos.forEach((n, i) => {
    if (!isRow(n)) return;
    const g = groups.get(find(i)) ?? new Set<number>();
    groups.set(find(i), g.add(i));
  });
  return [...groups.values()];
}

const sameTensor = (a: TensorInfo, b: TensorInfo) =>
  a.flat === b.flat && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** The layer's form when the group's tensors lose their unit axis, or undefined if it has none. */
function rewritten(j: number, infos: NodeInfo[], group: Set<number>): Layer | undefined {
  const n = infos[j];
  const drop = (i: NodeInfo): TensorInfo => ({ shape: i.outShape.slice(1), flat: false });
  const ins = n.inputs.map((p, k) =>
    p >= 0 && group.has(p) ? drop(infos[p]) : { shape: n.inShapes[k], flat: p >= 0 && infos[p].flat },
  );
  const want = group.has(j) ? drop(n) : { shape: n.outShape, flat: n.flat };
  const op = opOf(n.layer.kind);
  const candidates = [op.tflite?.collapse1d?.(n.layer), n.layer].filter((l): l is Layer => l !== undefined);
  return candidates.find((l) => {
    try {
      const r = opOf(l.kind).infer(l, ins, (why) => {
        throw new Error(why);
      });
      return sameTensor({ shape: r.shape, flat: r.flat }, want);
    } catch {
      return false;
    }
  });
}

/** Rewrites every unit-row group that can run on [W, C]. */
export function collapseUnitRows(graph: ModelGraph): Layer[] {
  const infos = inferShapes(graph);
  const layers = [...graph.layers];
  for (const group of rowGroups(infos)) {
    const touched = infos
      .map((n, j) => j)
      .filter((j) => group.has(j) || infos[j].inputs.some((p) => p >= 0 && group.has(p)));
    const forms = touched.map((j) => rewritten(j, infos, group));
    if (forms.some((l) => l === undefined)) continue;
    touched.forEach((j, k) => (layers[j] = forms[k]!));
  }
  return layers;
}
