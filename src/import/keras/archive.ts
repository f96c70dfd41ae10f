// Keras 3 archives (.keras): a zip of config.json (the model configuration) and model.weights.h5,
// where layers/<group>/vars/<i> are a layer's weights in its own order. The group is named after
// the layer's class (conv1d_2); its vars group's `name` attribute is the layer's name.
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { TinyforgeError } from '../../util/errors.js';
import type { ImportedModel, ImportOptions } from '../common.js';
import { attrString, groupAt, HDF5_LIMITS, keysOf, readWeight, withHdf5, type Group } from './hdf5.js';
import { kerasModel, parseConfig, readModelFile } from './model.js';
import type { KerasWeight } from './params.js';

const CONFIG = 'config.json';
const WEIGHTS = 'model.weights.h5';

const NOT_ZIP = 'the file is truncated or not a zip archive: save it again with model.save("x.keras")';

/** More entries than any Keras archive has (it has three): a damaged directory, not a model. */
const MAX_ENTRIES = 10_000;

/** Deflate's largest expansion (RFC 1951: a 258-byte match costs at least 2 bits), with slack. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * fflate trusts the zip directory: it allocates an entry's declared size before inflating and walks
 * as many entries as the directory claims. A damaged size field made it allocate gigabytes (finding
 * keras-zip-size), so the declared sizes and the entry count are checked first.
 */
function entryCheck(file: string): (f: UnzipFileInfo) => boolean {
  let entries = 0;
  return (f) => {
    if (++entries > MAX_ENTRIES)
      throw new TinyforgeError(
        `${file}: its zip directory claims more than ${MAX_ENTRIES} entries`,
        'input',
        NOT_ZIP,
      );
    if (f.name !== CONFIG && f.name !== WEIGHTS) return false;
    const most = Math.min(f.size * DEFLATE_MAX_RATIO + 1024, HDF5_LIMITS.maxValueBytes);
    if (f.compression === 8 && !(f.originalSize <= most))
      throw new TinyforgeError(
        `${file}: ${f.name} claims ${f.originalSize} bytes from ${f.size} compressed (deflate gives at most ${most})`,
        'input',
        NOT_ZIP,
      );
    return true;
  };
}

function unzip(file: string, bytes: Uint8Array): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter: entryCheck(file) });
  } catch (e) {
    if (e instanceof TinyforgeError) throw e;
    throw new TinyforgeError(
      `${file} is not a readable .keras archive (${(e as Error).message})`,
      'input',
      NOT_ZIP,
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
