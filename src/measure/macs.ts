// Multiply-accumulates per layer from a compressed model's shapes, counted by the graph's own
// inference (every kernel tap of every output, padding included): the denominator of instructions
// per MAC.
import { inferShapes } from '../graph/ir.js';
import { irGraph } from '../qmodel/check.js';
import type { CompressedModel } from '../qmodel/model.js';

/** MACs of each layer of a (validated) compressed model. */
export function layerMacs(model: CompressedModel): number[] {
  return inferShapes(irGraph(model)).map((n) => n.macs);
}

export function modelMacs(model: CompressedModel): number {
  return layerMacs(model).reduce((s, m) => s + m, 0);
}
