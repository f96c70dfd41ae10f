// Layout layers (from RESHAPE, SQUEEZE, EXPAND_DIMS and the input reshape) keep the elements in
// order, so a chain of them is its last one, and one whose output is its input changes nothing:
// both go, and their readers read what they read. Then `inputs` is left out where a layer reads the
// layer before it (the IR's sequential form).
import { inferShapes } from '../../graph/ir.js';
import { GRAPH_INPUT, type InputShape, type Layer } from '../../graph/types.js';

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** One removal: a layout layer that changes nothing, or that only feeds one layout layer. */
function removable(layers: Layer[], inputShape: InputShape, layout: ReadonlySet<string>) {
  const infos = inferShapes({ inputShape, classNames: [], layers });
  const readers = (i: number) => infos.filter((n) => n.inputs.includes(i));
  const inputFlat = (p: number) => p >= 0 && infos[p].flat;
  return infos.findIndex((n, i) => {
    if (!layout.has(n.layer.name) || n.inputs.length !== 1) return false;
    const p = n.inputs[0];
    // The last layer is the model's output: it goes only when the layer before it takes over.
    if (same(n.inShape, n.outShape) && inputFlat(p) === n.flat)
      return i < infos.length - 1 || (i > 0 && p === i - 1);
    const r = readers(i);
    return r.length === 1 && layout.has(r[0].layer.name);
  });
}

/** Removes layout layers that change nothing (every layer keeps naming its inputs). */
export function simplifyLayout(
  layers: Layer[],
  inputShape: InputShape,
  layout: ReadonlySet<string>,
): Layer[] {
  let out = layers;
  for (let i = removable(out, inputShape, layout); i >= 0; i = removable(out, inputShape, layout)) {
    const gone = out[i];
    const src = gone.inputs?.[0] ?? (i === 0 ? GRAPH_INPUT : out[i - 1].name);
    out = out
      .filter((_, k) => k !== i)
      .map((l) =>
        l.inputs?.includes(gone.name)
          ? { ...l, inputs: l.inputs.map((n) => (n === gone.name ? src : n)) }
          : l,
      );
  }
  return out;
}

/** Drops `inputs` that name just the previous layer (or the graph input for the first layer). */
export function sequential(layers: Layer[]): Layer[] {
  return layers.map((l, i) => {
    const prev = i === 0 ? GRAPH_INPUT : layers[i - 1].name;
    if (!l.inputs || l.inputs.length !== 1 || l.inputs[0] !== prev) return l;
    const { inputs: _, ...rest } = l;
    return rest as Layer;
  });
}
