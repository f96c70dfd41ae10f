// Fills the IR layers' float parameters from a Keras file's weights: each operator declares its
// parameters (OpModule.params: shape, Keras weight name) in the Keras layout, so a weight is copied
// as it is; only its place in the file differs between tfjs manifests, .h5 and .keras archives.
import { TinyforgeError } from '../../util/errors.js';
import { inferShapes } from '../../graph/ir.js';
import { sizeOf, type LayerParams, type ModelGraph } from '../../graph/types.js';
import { opOf } from '../../ops/registry.js';
import type { KerasMapping, ParamSpec } from '../../ops/types.js';

/** One stored weight of a Keras layer. */
export interface KerasWeight {
  /** Its name in the file (for messages). */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The weights of one IR layer for the parameters it needs from the file, in `specs` order. */
export type WeightPicker = (layer: string, specs: ParamSpec[]) => KerasWeight[];

/** The parameters of every IR layer that has some. */
export function fillParams(
  file: string,
  graph: ModelGraph,
  defaults: Map<string, KerasMapping['defaults']>,
  pick: WeightPicker,
): Record<string, LayerParams> {
  const params: Record<string, LayerParams> = {};
  for (const info of inferShapes(graph)) {
    const specs = opOf(info.layer.kind).params?.(info.layer, info) ?? [];
    if (specs.length === 0) continue;
    const name = info.layer.name;
    const fill = defaults.get(name) ?? {};
    const p: LayerParams = {};
    const stored = specs.filter((s) => !fill[s.key]);
    for (const s of specs) {
      const d = fill[s.key];
      if (d) p[s.key] = new Float32Array(sizeOf(s.shape)).fill(d === 'ones' ? 1 : 0);
    }
    const weights = pick(name, stored);
    stored.forEach((spec, i) => {
      const w = weights[i];
      const n = sizeOf(spec.shape);
      if (w.values.length !== n)
        throw new TinyforgeError(
          `${file}: weight '${w.name}' of layer '${name}' has ${w.values.length} values (shape [${w.shape.join(', ')}]), the layer's ${spec.kerasName} needs ${n} ([${spec.shape.join(', ')}])`,
          'input',
          'the weights do not belong to this model configuration',
        );
      p[spec.key] = w.values;
    });
    params[name] = p;
  }
  return params;
}

/**
 * A picker for files that store a layer's weights in the layer's own order (Keras .h5 and .keras:
 * kernel, bias; gamma, beta, moving mean, moving variance; ...), which is the order of the
 * operator's parameter list without the ones the file lacks.
 */
export function orderedPicker(
  file: string,
  weightsOf: (layer: string) => KerasWeight[] | undefined,
): WeightPicker {
  return (layer, specs) => {
    const ws = weightsOf(layer) ?? [];
    if (ws.length !== specs.length)
      throw new TinyforgeError(
        `${file}: layer '${layer}' has ${ws.length} stored weights (${ws.map((w) => w.name).join(', ') || 'none'}), it needs ${specs.length} (${specs.map((s) => s.kerasName).join(', ')})`,
        'input',
        'the weights do not belong to this model configuration',
      );
    return ws;
  };
}
