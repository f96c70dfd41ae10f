// Float forward pass over the IR in plain TypeScript: calibration of activation ranges and the
// float side of accuracy comparisons, without a tfjs backend (fast enough for a few thousand windows).
// Each operator module computes its own layer (src/ops).
import { inferShapes } from '../graph/ir.js';
import type { FloatModel, NodeInfo } from '../graph/types.js';
import { opOf } from '../ops/registry.js';
import { argmax } from '../fixedpoint/semantics.js';

export interface FloatTrace {
  /** Output of every layer, in graph order. */
  outputs: Float32Array[];
}

/** Runs one window (T*C floats, already normalized). */
export function floatForward(
  model: FloatModel,
  x: Float32Array,
  infos: NodeInfo[] = inferShapes(model.graph),
): FloatTrace {
  const outputs: Float32Array[] = [];
  for (const info of infos) {
    const ins = info.inputs.map((p) => (p < 0 ? x : outputs[p]));
    const p = model.params[info.layer.name] ?? {};
    outputs.push(opOf(info.layer.kind).floatForward(info.layer, info, p, ins));
  }
  return { outputs };
}

/** Class index of each window from the last layer's output. */
export function floatPredict(model: FloatModel, windows: Float32Array, n: number): Int32Array {
  const infos = inferShapes(model.graph);
  const size = model.graph.inputShape[0] * model.graph.inputShape[1];
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const tr = floatForward(model, windows.subarray(i * size, (i + 1) * size), infos);
    out[i] = argmax(tr.outputs[tr.outputs.length - 1]);
  }
  return out;
}
