// Multiply-accumulates per layer from a compressed model's shapes, counted as src/graph/ir.ts counts
// them (every kernel tap of every output, padding included): the denominator of instructions per MAC.
import type { CompressedModel, QLayer } from '../qmodel/model.js';

export function layerMacs(l: QLayer): number {
  if (l.kind === 'conv1d') return l.outShape[0] * l.filters * l.kernelSize * l.inShape[1];
  if (l.kind === 'dense') return l.inShape[0] * l.inShape[1] * l.units;
  return 0;
}

export function modelMacs(model: CompressedModel): number {
  return model.layers.reduce((s, l) => s + layerMacs(l), 0);
}
