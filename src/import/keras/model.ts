// The imported model of a Keras file: its converted configuration, its weights and its source.
import { existsSync, readFileSync } from 'node:fs';
import { TinyforgeError } from '../../util/errors.js';
import { classNamesFor, type ImportedModel, type ImportOptions, type SourceFormat } from '../common.js';
import { fillParams, orderedPicker, type KerasWeight } from './params.js';
import { convertKerasTopology } from './topology.js';

/** The bytes of a model file ('input' when it cannot be read). */
export function readModelFile(file: string): Uint8Array {
  if (!existsSync(file)) throw new TinyforgeError(`model file ${file} does not exist`, 'input');
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TinyforgeError(`cannot read ${file}: ${(e as Error).message}`, 'input');
  }
}

/** A model configuration from its JSON text ('input' when it is not JSON). */
export function parseConfig(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TinyforgeError(`${where} is not valid JSON: ${(e as Error).message}`, 'input');
  }
}

/**
 * The imported model from a Keras model configuration and the stored weights of each layer (in
 * the layer's own order).
 */
export function kerasModel(
  file: string,
  format: SourceFormat,
  config: unknown,
  weightsOf: (layer: string) => KerasWeight[] | undefined,
  opts: ImportOptions,
): ImportedModel {
  const topo = convertKerasTopology(config, file, { inputMeaning: opts.inputMeaning });
  const graph = { ...topo.graph, classNames: classNamesFor(file, topo.outputs, opts.classNames) };
  const params = fillParams(file, graph, topo.defaults, orderedPicker(file, weightsOf));
  return {
    model: { graph, params },
    source: {
      format,
      file,
      inputShape: topo.sourceShape,
      inputLayout: 'channels-last',
      inputMeaning: topo.meaning,
    },
  };
}
