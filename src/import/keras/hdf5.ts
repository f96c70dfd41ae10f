// Reading HDF5 (Keras .h5 files and the weights inside .keras archives) with h5wasm, in a worker
// thread (hdf5Worker.ts): the HDF5 library can loop forever on a damaged file (finding
// hdf5-attribute-hang), so a read has a time limit after which the worker is stopped and the file
// is reported as damaged. The worker returns the file's groups, string attributes and float
// datasets as plain data (bounded in objects and bytes); the functions below read that copy.
// Nothing touches the disk: the bytes go to h5wasm's in-memory file system.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TinyforgeError } from '../../util/errors.js';
import {
  hdf5WorkerMain,
  type H5DatasetData,
  type H5GroupData,
  type H5NodeData,
  type Hdf5Limits,
  type Hdf5Reply,
  type Hdf5Request,
  type Hdf5WorkerData,
} from './hdf5Worker.js';
import type { KerasWeight } from './params.js';

export type Group = H5GroupData;

/** What one file may hold (far above any Keras model for a microcontroller). */
export const HDF5_LIMITS: Hdf5Limits = { maxObjects: 100_000, maxDepth: 64, maxValueBytes: 1 << 30 };

/** The worker's JavaScript heap limit (its WebAssembly memory is bounded by maxValueBytes). */
const HEAP_MB = 512;

/**
 * How long a read may take once the worker is ready: 3 s plus 1 s per MB (the MLPerf .h5 files,
 * 1.1 and 3.4 MB, read in under 0.1 s), so only a looping read reaches it.
 */
export function hdf5TimeLimitMs(bytes: number): number {
  return 3_000 + Math.ceil(bytes / 1e6) * 1_000;
}

/** How long the worker may take to start (load and compile h5wasm) on a busy machine. */
const START_LIMIT_MS = 120_000;

const NOT_HDF5 = 'the file is damaged (truncated or edited) or not HDF5: save it again with model.save()';

/** The file URL of h5wasm's ESM build, found the way Node resolves a package from this module. */
function h5wasmUrl(): string {
  const here = import.meta.url;
  for (const dir of createRequire(here).resolve.paths('h5wasm') ?? []) {
    const pkg = join(dir, 'h5wasm', 'package.json');
    if (!existsSync(pkg)) continue;
    const exp = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: { '.': { import: string } } }).exports;
    return pathToFileURL(join(dir, 'h5wasm', exp['.'].import)).href;
  }
  throw new TinyforgeError('the h5wasm package is not installed', 'toolchain', 'run npm install');
}

interface Live {
  worker: Worker;
  ready: Promise<void>;
}

let live: Live | undefined;
let nextId = 1;
let queue: Promise<unknown> = Promise.resolve();

function startWorker(): Live {
  const code = `(${hdf5WorkerMain.toString()})(require('node:worker_threads'), (u) => import(u))`;
  const workerData: Hdf5WorkerData = { h5wasm: h5wasmUrl(), limits: HDF5_LIMITS };
  const worker = new Worker(code, {
    eval: true,
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB },
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: Hdf5Reply) => {
      if ('ready' in m) {
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve();
      }
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited (code ${code})`)));
  });
  const l: Live = { worker, ready };
  // A worker that died (stopped, crashed) is replaced on the next read; an 'error' event needs a
  // listener even between reads (unhandled, it would end the process).
  worker.on('error', () => void (live === l && (live = undefined)));
  worker.on('exit', () => void (live === l && (live = undefined)));
  // An idle worker must not keep the process alive.
  worker.unref();
  return l;
}

/** Stops the reader's worker (the next read starts one with the HDF5_LIMITS of that moment). */
export async function stopHdf5Reader(): Promise<void> {
  await queue;
  if (live) {
    const l = live;
    live = undefined;
    await l.worker.terminate();
  }
}

function stop(l: Live): void {
  if (live === l) live = undefined;
  void l.worker.terminate();
}

/** `p`, or the error `timedOut` gives once `ms` have passed (the worker is then stopped). */
async function withTimeLimit<T>(p: Promise<T>, ms: number, l: Live, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          stop(l);
          reject(timedOut());
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One read in the worker: its reply, or a TinyforgeError for a time-out, a crash or memory. */
async function request(bytes: Uint8Array, where: string, skip: string[]): Promise<Hdf5Reply> {
  const l = (live ??= startWorker());
  const limitMs = hdf5TimeLimitMs(bytes.length);
  const id = nextId++;
  l.worker.ref();
  let onMessage: ((m: Hdf5Reply) => void) | undefined;
  let onError: ((e: Error & { code?: string }) => void) | undefined;
  try {
    await withTimeLimit(
      l.ready,
      START_LIMIT_MS,
      l,
      () => new Error(`not ready after ${START_LIMIT_MS / 1000} s`),
    ).catch((e: Error) => {
      throw new TinyforgeError(`cannot start the HDF5 reader: ${e.message}`, 'toolchain');
    });
    const reply = new Promise<Hdf5Reply>((resolve, reject) => {
      onMessage = (m: Hdf5Reply) => {
        if ('id' in m && m.id === id) resolve(m);
      };
      onError = (e: Error & { code?: string }) => {
        stop(l);
        reject(
          new TinyforgeError(
            e.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `${where}: reading the HDF5 file took more than ${HEAP_MB} MB of memory (stopped)`
              : `${where}: the HDF5 reader failed (${e.message})`,
            'input',
            NOT_HDF5,
          ),
        );
      };
      l.worker.on('message', onMessage);
      l.worker.on('error', onError);
      l.worker.postMessage({ id, bytes, skip } satisfies Hdf5Request);
    });
    return await withTimeLimit(
      reply,
      limitMs,
      l,
      () =>
        new TinyforgeError(
          `${where}: reading the HDF5 file did not finish in ${limitMs / 1000} s (stopped)`,
          'input',
          NOT_HDF5,
        ),
    );
  } finally {
    if (onMessage) l.worker.off('message', onMessage);
    if (onError) l.worker.off('error', onError);
    l.worker.unref();
  }
}

/**
 * Reads HDF5 bytes in the worker (one read at a time) and runs `use` on the file's tree; `where`
 * names the file in messages. `skip`: top-level groups not read (optimizer state).
 */
export async function withHdf5<T>(
  bytes: Uint8Array,
  where: string,
  use: (f: Group) => T,
  skip: string[] = [],
): Promise<T> {
  const run = queue.then(() => request(bytes, where, skip));
  queue = run.catch(() => undefined);
  const reply = await run;
  if ('tree' in reply) return use(reply.tree);
  if (!('error' in reply)) throw new TinyforgeError(`${where}: the HDF5 reader did not answer`, 'input');
  if (reply.stage === 'open')
    throw new TinyforgeError(
      `${where} is not a readable HDF5 file (${firstLine(reply.error)})`,
      'input',
      'the file is truncated or not HDF5',
    );
  if (reply.stage === 'limit')
    throw new TinyforgeError(
      `${where}: the HDF5 file is beyond the reader's limits (${reply.error})`,
      'input',
      `a Keras model file holds at most ${HDF5_LIMITS.maxObjects} objects and ${HDF5_LIMITS.maxValueBytes >> 20} MB of values; ${NOT_HDF5}`,
    );
  throw new TinyforgeError(`${where}: cannot read the HDF5 file (${firstLine(reply.error)})`, 'input');
}

function firstLine(m: string): string {
  const lines = m.split('\n').map((s) => s.trim());
  return lines.find((s) => /minor:|not an hdf5/i.test(s))?.replace(/^minor:\s*/, '') ?? lines[0];
}

/** A string attribute (h5py writes some as one-element arrays). */
export function attrString(obj: Group, name: string): string | undefined {
  const v = Object.hasOwn(obj.attrs, name) ? obj.attrs[name] : undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** A string-list attribute (layer_names, weight_names); absent or empty: []. */
export function attrStrings(obj: Group, name: string): string[] {
  const v = Object.hasOwn(obj.attrs, name) ? obj.attrs[name] : undefined;
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v : [];
}

/** The names inside a group. */
export function keysOf(g: Group): string[] {
  return Object.keys(g.children);
}

/** The object at a relative path ('a/b'), or undefined. */
function nodeAt(parent: Group, path: string): H5NodeData | undefined {
  let cur: H5NodeData = parent;
  for (const part of path.split('/').filter((p) => p !== '' && p !== '.')) {
    if (cur.kind !== 'group' || !Object.hasOwn(cur.children, part)) return undefined;
    cur = cur.children[part];
  }
  return cur;
}

/** A group, or undefined when the path is absent or not a group. */
export function groupAt(parent: Group, path: string): Group | undefined {
  const g = nodeAt(parent, path);
  return g?.kind === 'group' ? g : undefined;
}

/** A float weight (float32 as is, float64 narrowed); other types stop naming the weight. */
export function readWeight(parent: Group, path: string, where: string): KerasWeight {
  const d = nodeAt(parent, path);
  if (d?.kind !== 'dataset')
    throw new TinyforgeError(`${where}: weight '${parent.path}/${path}' is missing`, 'input');
  return { name: d.path, shape: d.shape, values: floatValues(d, where) };
}

function floatValues(d: H5DatasetData, where: string): Float32Array {
  const v = d.value;
  if (v instanceof Float32Array) return v;
  if (v instanceof Float64Array) return Float32Array.from(v);
  if (typeof v === 'number' && d.shape.length === 0) return Float32Array.of(v);
  throw new TinyforgeError(
    `${where}: weight '${d.path}' has type ${JSON.stringify(d.dtype)}; only float weights are supported`,
    'model',
    'save the model with float32 weights',
  );
}
