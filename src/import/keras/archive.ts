// Keras 3 archives (.keras): a zip of config.json (the model configuration) and model.weights.h5,
// where layers/<group>/vars/<i> are a layer's weights in its own order. The group is named after
// the layer's class (conv1d_2); its vars group's `name` attribute is the layer's name.
import { unzipSync } from 'fflate';
import { TinyforgeError } from '../../util/errors.js';
import type { ImportedModel, ImportOptions } from '../common.js';
import { attrString, groupAt, keysOf, readWeight, withHdf5, type Group } from './hdf5.js';
import { kerasModel, parseConfig, readModelFile } from './model.js';
import type { KerasWeight } from './params.js';

const CONFIG = 'config.json';
const WEIGHTS = 'model.weights.h5';

function unzip(file: string, bytes: Uint8Array): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter: (f) => f.name === CONFIG || f.name === WEIGHTS });
  } catch (e) {
    throw new TinyforgeError(
      `${file} is not a readable .keras archive (${(e as Error).message})`,
      'input',
      'the file is truncated or not a zip archive',
    );
  }
}

/** Each layer's vars group, by layer name. */
function varsByLayer(root: Group): Map<string, Group> {
  const out = new Map<string, Group>();
  const layers = groupAt(root, 'layers');
  for (const key of layers ? keysOf(layers) : []) {
    const vars = groupAt(layers!, `${key}/vars`);
    if (vars) out.set(attrString(vars, 'name') ?? key, vars);
  }
  return out;
}

function varsWeights(vars: Group, where: string): KerasWeight[] {
  const keys = keysOf(vars).filter((k) => /^\d+$/.test(k));
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => readWeight(vars, k, where));
}

export async function importKerasArchive(file: string, opts: ImportOptions = {}): Promise<ImportedModel> {
  const entries = unzip(file, readModelFile(file));
  for (const name of [CONFIG, WEIGHTS])
    if (!entries[name])
      throw new TinyforgeError(
        `${file} has no ${name}`,
        'input',
        'expected a Keras 3 archive written by model.save("x.keras")',
      );
  const config = parseConfig(new TextDecoder().decode(entries[CONFIG]), `${file} (${CONFIG})`);
  const where = `${file} (${WEIGHTS})`;
  return withHdf5(
    entries[WEIGHTS],
    where,
    (f) => {
      const vars = varsByLayer(f);
      return kerasModel(
        file,
        'keras',
        config,
        (layer) => {
          const g = vars.get(layer);
          return g && varsWeights(g, where);
        },
        opts,
      );
    },
    ['optimizer'],
  );
}
