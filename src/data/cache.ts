// A parsed data set kept as one binary file so later loads take milliseconds instead of seconds.
// Layout: "TFDS1\n", uint32 header length, JSON header (padded to 4 bytes), then the arrays the
// header lists in order (float32 / int32, little-endian as every supported host): train, test, then
// val when present (so files without val keep the first layout). Written part by part to a temporary
// file and renamed, so a crash never leaves a half-written entry and writing never holds a second
// copy of the windows; read straight into the typed arrays for the same reason.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HarDataset, WindowSet } from './dataset.js';

const MAGIC = 'TFDS1\n';

/** $TINYFORGE_CACHE, else .cache/tinyforge in the tinyforge checkout/package. */
export function cacheDir(): string {
  const env = process.env.TINYFORGE_CACHE;
  if (env) return resolve(env);
  // this file lives in src/data or dist/data: two levels up is the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'tinyforge');
}

/** Cache key from the input files' paths, sizes and modification times (and any extra text). */
export function cacheKey(kind: string, files: string[], extra = ''): string {
  const h = createHash('sha256');
  h.update(`${MAGIC}${kind}\n`);
  if (extra) h.update(`${extra}\n`);
  for (const f of files) {
    const st = statSync(f);
    h.update(`${resolve(f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 24);
}

/**
 * Cache key from the input files' contents (read 1 MiB at a time) and any extra text: the same
 * recordings anywhere, copied or touched, hit the same cache entry; any changed byte misses it.
 */
export function contentKey(kind: string, files: string[], extra = ''): string {
  const h = createHash('sha256');
  h.update(`${MAGIC}${kind}\n`);
  if (extra) h.update(`${extra}\n`);
  const chunk = Buffer.alloc(1 << 20);
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      let total = 0;
      for (
        let n = readSync(fd, chunk, 0, chunk.length, null);
        n > 0;
        n = readSync(fd, chunk, 0, chunk.length, null)
      ) {
        h.update(chunk.subarray(0, n));
        total += n;
      }
      h.update(`\0${total}\n`);
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 24);
}

interface SetHeader {
  n: number;
  steps: number;
  channels: number;
  subjects: boolean;
}

interface Header {
  kind: string;
  spec: string;
  source: string;
  classNames: string[];
  channelNames: string[];
  sets: { train: SetHeader; test: SetHeader; val?: SetHeader };
  rateHz?: number;
  channelUnits?: string[];
  subjectNames?: string[];
  /** Whatever JSON the source wants back with the windows (a recordings data report). */
  extra?: unknown;
}

const setHeader = (s: WindowSet): SetHeader => ({
  n: s.n,
  steps: s.steps,
  channels: s.channels,
  subjects: !!s.subjects,
});

function setsOf(ds: HarDataset): WindowSet[] {
  return ds.val ? [ds.train, ds.test, ds.val] : [ds.train, ds.test];
}

function headerBytes(ds: HarDataset, extra: unknown): Buffer {
  const header: Header = {
    kind: ds.kind,
    spec: ds.spec,
    source: ds.source,
    classNames: ds.classNames,
    channelNames: ds.channelNames,
    sets: { train: setHeader(ds.train), test: setHeader(ds.test), val: ds.val && setHeader(ds.val) },
    rateHz: ds.rateHz,
    channelUnits: ds.channelUnits,
    subjectNames: ds.subjectNames,
    extra,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length + pad);
  return Buffer.concat([Buffer.from(MAGIC, 'latin1'), len, json, Buffer.alloc(pad, 0x20)]);
}

const bytesOf = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes `parts` one after the other to a temporary file renamed to `path` when complete. */
function writePartsAtomic(path: string, parts: Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    for (const p of parts) for (let off = 0; off < p.length;) off += writeSync(fd, p, off, p.length - off);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes the data set (and `extra`, any JSON value) as a cache entry. */
export function writeDatasetCache(path: string, ds: HarDataset, extra?: unknown): void {
  const parts: Uint8Array[] = [headerBytes(ds, extra)];
  for (const s of setsOf(ds)) {
    parts.push(bytesOf(s.x), bytesOf(s.y));
    if (s.subjects) parts.push(bytesOf(s.subjects));
  }
  mkdirSync(dirname(path), { recursive: true });
  writePartsAtomic(path, parts);
}

/** Fills `a` from the file at `pos`; false when the file ends first. */
function readInto(fd: number, a: Float32Array | Int32Array | Uint8Array, pos: number): boolean {
  const view = a instanceof Uint8Array ? a : bytesOf(a);
  for (let off = 0; off < view.length;) {
    const k = readSync(fd, view, off, view.length - off, pos + off);
    if (k === 0) return false;
    off += k;
  }
  return true;
}

function readEntry(fd: number): { dataset: HarDataset; extra: unknown } | undefined {
  const head = Buffer.alloc(MAGIC.length + 4);
  if (!readInto(fd, head, 0) || head.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const hlen = head.readUInt32LE(MAGIC.length);
  const json = Buffer.alloc(hlen);
  if (!readInto(fd, json, head.length)) return undefined;
  const header = JSON.parse(json.toString('utf8')) as Header;
  let pos = head.length + hlen;
  const take = <T extends Float32Array | Int32Array>(a: T): T => {
    if (!readInto(fd, a, pos)) throw new Error('truncated cache entry');
    pos += a.byteLength;
    return a;
  };
  const read = (h: SetHeader): WindowSet => ({
    x: take(new Float32Array(h.n * h.steps * h.channels)),
    y: take(new Int32Array(h.n)),
    subjects: h.subjects ? take(new Int32Array(h.n)) : undefined,
    n: h.n,
    steps: h.steps,
    channels: h.channels,
  });
  const train = read(header.sets.train);
  const test = read(header.sets.test);
  const val = header.sets.val ? read(header.sets.val) : undefined;
  if (pos !== fstatSync(fd).size) return undefined;
  const { kind, spec, source, classNames, channelNames, rateHz, channelUnits, subjectNames } = header;
  const dataset: HarDataset = { kind, spec, source, classNames, channelNames, train, test };
  // Only the fields the source had: a cached data set equals a freshly parsed one.
  Object.assign(
    dataset,
    Object.fromEntries(
      Object.entries({ val, rateHz, channelUnits, subjectNames }).filter(([, v]) => v !== undefined),
    ),
  );
  return { dataset, extra: header.extra };
}

/** The cached data set and its extra value, or undefined when absent or unreadable (parse again). */
export function readDatasetCacheEntry(path: string): { dataset: HarDataset; extra: unknown } | undefined {
  if (!existsSync(path)) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readEntry(fd);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The cached data set, or undefined when absent or unreadable (the caller then parses again). */
export function readDatasetCache(path: string): HarDataset | undefined {
  return readDatasetCacheEntry(path)?.dataset;
}
