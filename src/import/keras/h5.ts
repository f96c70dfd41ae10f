// Legacy HDF5 Keras files (model.save('x.h5'), Keras 2.x and 3.x): the model configuration is the
// root attribute `model_config`; each layer's weights are in model_weights/<layer>, listed in the
// layer's order by its `weight_names` attribute (Keras 2: 'dense/kernel:0', Keras 3:
// 'sequential/dense/kernel', both relative to the layer's group).
import { TinyforgeError } from '../../util/errors.js';
import type { ImportedModel, ImportOptions } from '../common.js';
import { attrString, attrStrings, groupAt, readWeight, withHdf5 } from './hdf5.js';
import { kerasModel, parseConfig, readModelFile } from './model.js';

export async function importKerasH5(file: string, opts: ImportOptions = {}): Promise<ImportedModel> {
  const bytes = readModelFile(file);
  return withHdf5(
    bytes,
    file,
    (f) => {
      const text = attrString(f, 'model_config');
      if (text === undefined)
        throw new TinyforgeError(
          `${file} has no model configuration (model_config)`,
          'input',
          attrStrings(f, 'layer_names').length
            ? 'it holds only weights (save_weights): save the whole model with model.save()'
            : 'expected a Keras model saved with model.save()',
        );
      const weights = groupAt(f, 'model_weights') ?? f;
      return kerasModel(
        file,
        'keras-h5',
        parseConfig(text, `${file} (model_config)`),
        (layer) => {
          const g = groupAt(weights, layer);
          return g && attrStrings(g, 'weight_names').map((n) => readWeight(g, n, file));
        },
        opts,
      );
    },
    ['optimizer_weights'],
  );
}
