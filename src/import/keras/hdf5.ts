// Reading HDF5 (Keras .h5 files and the weights inside .keras archives) with h5wasm. Its ESM build
// keeps files in an in-memory file system: the bytes are read (or unzipped) here and written there,
// so nothing touches the disk. HDF5 errors throw (instead of printing to stderr) and become 'input'
// errors naming the file.
import h5wasm, { Dataset, Group, type File as H5File } from 'h5wasm';
import { TinyforgeError } from '../../util/errors.js';
import type { KerasWeight } from './params.js';

let opened = 0;

/** Opens HDF5 bytes, runs `use` on the file and closes it; `where` names the file in messages. */
export async function withHdf5<T>(bytes: Uint8Array, where: string, use: (f: H5File) => T): Promise<T> {
  const module = await h5wasm.ready;
  module.activate_throwing_error_handler();
  const path = `/tinyforge-import-${opened++}.h5`;
  module.FS!.writeFile(path, bytes);
  try {
    let f: H5File;
    try {
      f = new h5wasm.File(path, 'r');
    } catch (e) {
      throw new TinyforgeError(
        `${where} is not a readable HDF5 file (${firstLine(e)})`,
        'input',
        'the file is truncated or not HDF5',
      );
    }
    try {
      return use(f);
    } catch (e) {
      if (e instanceof TinyforgeError) throw e;
      throw new TinyforgeError(`${where}: cannot read the HDF5 file (${firstLine(e)})`, 'input');
    } finally {
      f.close();
    }
  } finally {
    module.FS!.unlink(path);
  }
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  const lines = m.split('\n').map((s) => s.trim());
  return lines.find((s) => /minor:|not an hdf5/i.test(s))?.replace(/^minor:\s*/, '') ?? lines[0];
}

/** A string attribute (h5py writes some as one-element arrays). */
export function attrString(obj: Group, name: string): string | undefined {
  const a = obj.attrs[name];
  if (!a) return undefined;
  const v = a.value;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** A string-list attribute (layer_names, weight_names); absent or empty: []. */
export function attrStrings(obj: Group, name: string): string[] {
  const a = obj.attrs[name];
  if (!a) return [];
  const v = a.value;
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.map(String) : [];
}

/** A group, or undefined when the path is absent or not a group. */
export function groupAt(parent: Group, path: string): Group | undefined {
  const g = parent.get(path);
  return g instanceof Group ? g : undefined;
}

/** A float weight (float32 as is, float64 narrowed); other types stop naming the weight. */
export function readWeight(parent: Group, path: string, where: string): KerasWeight {
  const d = parent.get(path);
  if (!(d instanceof Dataset))
    throw new TinyforgeError(`${where}: weight '${parent.path}/${path}' is missing`, 'input');
  const v = d.value;
  const shape = d.shape ?? [];
  let values: Float32Array;
  if (v instanceof Float32Array) values = v;
  else if (v instanceof Float64Array) values = Float32Array.from(v);
  else if (typeof v === 'number' && shape.length === 0) values = Float32Array.of(v);
  else
    throw new TinyforgeError(
      `${where}: weight '${d.path}' has type ${JSON.stringify(d.dtype)}; only float weights are supported`,
      'model',
      'save the model with float32 weights',
    );
  return { name: d.path, shape, values };
}
