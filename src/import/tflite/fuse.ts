// Layers TensorFlow lowered into several TFLite operators, put back together once the graph is in
// the IR (each through its operator module's `tflite` hooks, and only when shape inference agrees):
// a causal Conv1D is PAD [span - 1, 0] + a VALID convolution (`zeroPads` + `absorbPadding`), and an
// Add of n inputs is a chain of n - 1 ADDs (`nary`). Layers here all name their inputs.
import { inferShapes } from '../../graph/ir.js';
import {
  GRAPH_INPUT,
  type InputShape,
  type Layer,
  type NodeInfo,
  type TensorInfo,
} from '../../graph/types.js';
import { opOf } from '../../ops/registry.js';

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** What a fusion sees: the graph's nodes, who reads each, and any tensor's shape (-1: the input). */
interface View {
  infos: NodeInfo[];
  readers: number[][];
  tensor(q: number): TensorInfo;
}

/** The layer's output shape on these inputs, or undefined when it does not take them. */
function shapeOn(l: Layer, ins: TensorInfo[]): number[] | undefined {
  try {
    return opOf(l.kind).infer(l, ins, (why) => {
      throw new Error(why);
    }).shape;
  } catch {
    return undefined;
  }
}

/** One fusion: layer `j` replaced, layer `gone` removed. */
type Fusion = { j: number; layer: Layer; gone: number } | undefined;

const nameOf = (v: View, q: number) => (q < 0 ? GRAPH_INPUT : v.infos[q].layer.name);

/** A zero padding read only by a layer that absorbs it. */
function paddingFusion(v: View, j: number): Fusion {
  const n = v.infos[j];
  const absorb = opOf(n.layer.kind).tflite?.absorbPadding;
  const p = n.inputs[0];
  if (!absorb || n.inputs.length !== 1 || p < 0 || v.readers[p].length !== 1) return undefined;
  const pads = opOf(v.infos[p].layer.kind).tflite?.zeroPads?.(v.infos[p].layer);
  const fused = pads && absorb(n.layer, pads);
  if (!fused) return undefined;
  const src = v.infos[p].inputs[0];
  const layer = { ...fused, inputs: [nameOf(v, src)] };
  const shape = shapeOn(layer, [v.tensor(src)]);
  return shape && sameShape(shape, n.outShape) ? { j, layer, gone: p } : undefined;
}

/** An n-ary layer whose first input is a layer of its kind that only it reads. */
function naryFusion(v: View, j: number): Fusion {
  const n = v.infos[j];
  const p = n.inputs[0];
  if (!opOf(n.layer.kind).tflite?.nary || p < 0 || v.infos[p].layer.kind !== n.layer.kind) return undefined;
  if (v.readers[p].length !== 1 || n.inputs.filter((q) => q === p).length !== 1) return undefined;
  const producers = [...v.infos[p].inputs, ...n.inputs.slice(1)];
  const layer = { ...n.layer, inputs: producers.map((q) => nameOf(v, q)) };
  const shape = shapeOn(layer, producers.map(v.tensor));
  return shape && sameShape(shape, n.outShape) ? { j, layer, gone: p } : undefined;
}

/** Applies the fusions until none is left. */
export function fuseLowered(layers: Layer[], inputShape: InputShape): Layer[] {
  for (;;) {
    const infos = inferShapes({ inputShape, classNames: [], layers });
    const v: View = {
      infos,
      readers: infos.map((_, i) => infos.flatMap((n, j) => (n.inputs.includes(i) ? [j] : []))),
      tensor: (q) =>
        q < 0 ? { shape: [...inputShape], flat: false } : { shape: infos[q].outShape, flat: infos[q].flat },
    };
    const fusion = infos.map((_, j) => paddingFusion(v, j) ?? naryFusion(v, j)).find((f) => f !== undefined);
    if (!fusion) return layers;
    layers = layers.flatMap((l, i) => (i === fusion.gone ? [] : i === fusion.j ? [fusion.layer] : [l]));
  }
}
