// The part of HDF5 reading that runs in a worker thread (hdf5.ts starts it). The HDF5 library
// (h5wasm) can loop forever on a damaged file (finding hdf5-attribute-hang): in a worker, the main
// thread can stop it after a time limit and report the file as damaged instead of hanging.
//
// The worker opens the file and copies out what the Keras importers read (the group tree, string
// attributes, float datasets) as plain data, bounded by object, depth and byte limits so a crafted
// file cannot make it allocate without bound (WebAssembly memory is outside the worker's
// resourceLimits, so the byte limit is checked before anything is read).
//
// hdf5WorkerMain is started from its source text (Function.prototype.toString) in an eval worker,
// so it runs the same from the TypeScript sources (tests) and from dist/: it must not refer to
// anything outside its own body (it gets the worker_threads module and an import function).
import type * as H5 from 'h5wasm';
import type * as WorkerThreads from 'node:worker_threads';

/** An attribute value as the importers read it (other types are left out). */
export type H5AttrValue = string | string[] | Uint8Array;

export interface H5DatasetData {
  kind: 'dataset';
  path: string;
  shape: number[];
  dtype: unknown;
  /** Float datasets only (float32 / float64 arrays, or a float scalar). */
  value?: Float32Array | Float64Array | number;
}

export interface H5GroupData {
  kind: 'group';
  path: string;
  attrs: Record<string, H5AttrValue>;
  children: Record<string, H5NodeData>;
}

/** Anything else behind a link (a named datatype, a broken or external link). */
export interface H5OtherData {
  kind: 'other';
  path: string;
}

export type H5NodeData = H5GroupData | H5DatasetData | H5OtherData;

export interface Hdf5Limits {
  /** Groups, datasets and attributes together. */
  maxObjects: number;
  /** Nesting of groups (hard links can make a cycle). */
  maxDepth: number;
  /** Bytes of attribute and dataset values together. */
  maxValueBytes: number;
}

export interface Hdf5WorkerData {
  /** file: URL of h5wasm's ESM build. */
  h5wasm: string;
  limits: Hdf5Limits;
}

export interface Hdf5Request {
  id: number;
  bytes: Uint8Array;
  /** Top-level groups not copied (optimizer state). */
  skip: string[];
}

export type Hdf5Reply =
  | { id: number; tree: H5GroupData }
  | { id: number; error: string; stage: 'open' | 'read' | 'limit' }
  | { ready: true };

type Load = (url: string) => Promise<{ default: typeof H5.default }>;

export async function hdf5WorkerMain(wt: typeof WorkerThreads, load: Load): Promise<void> {
  // What the HDF5 library prints is not the user's business (its errors come back as messages).
  // Silenced here, before it loads: reading the worker's stdout in the main thread would keep the
  // process alive after the import (finding cli-import-never-exits).
  const quiet = () => undefined;
  for (const k of ['log', 'info', 'warn', 'error', 'debug'] as const) console[k] = quiet;
  process.stdout.write = process.stderr.write = (() => true) as typeof process.stdout.write;
  const port = wt.parentPort!;
  const data = wt.workerData as Hdf5WorkerData;
  const h5 = (await load(data.h5wasm)).default;
  const module = await h5.ready;
  module.activate_throwing_error_handler();
  const { maxObjects, maxDepth, maxValueBytes } = data.limits;

  class LimitError extends Error {}
  let objects = 0;
  let bytes = 0;
  // Buffers moved to the main thread instead of copied (each value owns its own buffer).
  let transfer = new Set<ArrayBuffer>();
  const count = (valueBytes: number, what: string) => {
    if (++objects > maxObjects) throw new LimitError(`more than ${maxObjects} HDF5 objects`);
    bytes += valueBytes;
    if (!(bytes <= maxValueBytes))
      throw new LimitError(`${what} takes the values beyond ${maxValueBytes} bytes`);
  };
  const FLOAT = 1; // H5T_FLOAT

  const attrsOf = (obj: H5.Group) => {
    const out: Record<string, string | string[] | Uint8Array> = {};
    const attrs = obj.attrs;
    for (const name of Object.keys(attrs)) {
      const a = attrs[name];
      count(a.metadata.total_size * a.metadata.size, `attribute '${obj.path}' ${name}`);
      const v = a.value;
      if (typeof v === 'string' || v instanceof Uint8Array) out[name] = v;
      else if (Array.isArray(v)) out[name] = v.map(String);
    }
    return out;
  };

  const datasetOf = (d: H5.Dataset) => {
    const meta = d.metadata;
    const shape = d.shape ?? [];
    count(meta.total_size * meta.size, `dataset '${d.path}'`);
    const out: H5DatasetData = { kind: 'dataset', path: d.path, shape, dtype: d.dtype };
    if (meta.type === FLOAT) {
      const v = d.value;
      if (v instanceof Float32Array || v instanceof Float64Array) {
        out.value = v;
        if (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) transfer.add(v.buffer as ArrayBuffer);
      } else if (typeof v === 'number') out.value = v;
    }
    return out;
  };

  const groupOf = (g: H5.Group, depth: number, skip: string[]): H5GroupData => {
    if (depth > maxDepth) throw new LimitError(`groups nested deeper than ${maxDepth}`);
    count(0, `group '${g.path}'`);
    const out: H5GroupData = { kind: 'group', path: g.path, attrs: attrsOf(g), children: {} };
    for (const key of g.keys()) {
      if (skip.includes(key)) continue;
      const c = g.get(key);
      const path = `${g.path === '/' ? '' : g.path}/${key}`;
      out.children[key] =
        c instanceof h5.Group
          ? groupOf(c, depth + 1, [])
          : c instanceof h5.Dataset
            ? datasetOf(c)
            : { kind: 'other', path };
    }
    return out;
  };

  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

  port.on('message', (req: Hdf5Request) => {
    const path = `/tinyforge-import-${req.id}.h5`;
    module.FS!.writeFile(path, req.bytes);
    objects = 0;
    bytes = 0;
    transfer = new Set();
    try {
      let f: H5.File;
      try {
        f = new h5.File(path, 'r');
      } catch (e) {
        port.postMessage({ id: req.id, error: message(e), stage: 'open' } satisfies Hdf5Reply);
        return;
      }
      try {
        const tree = groupOf(f, 0, req.skip);
        port.postMessage({ id: req.id, tree } satisfies Hdf5Reply, [...transfer]);
      } catch (e) {
        const stage = e instanceof LimitError ? 'limit' : 'read';
        port.postMessage({ id: req.id, error: message(e), stage } satisfies Hdf5Reply);
      } finally {
        f.close();
      }
    } finally {
      module.FS!.unlink(path);
    }
  });
  port.postMessage({ ready: true } satisfies Hdf5Reply);
}
