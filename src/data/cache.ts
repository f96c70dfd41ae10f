// A parsed data set kept as one binary file so later loads take milliseconds instead of seconds.
// Layout: "TFDS1\n", uint32 header length, JSON header (padded to 4 bytes), then the arrays the
// header lists in order (float32 / int32, little-endian as every supported host). Written to a
// temporary file and renamed, so a crash never leaves a half-written cache entry.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HarDataset, WindowSet } from './dataset.js';
import { writeFileAtomic } from '../util/files.js';

const MAGIC = 'TFDS1\n';

/** $TINYFORGE_CACHE, else .cache/tinyforge in the tinyforge checkout/package. */
export function cacheDir(): string {
  const env = process.env.TINYFORGE_CACHE;
  if (env) return resolve(env);
  // this file lives in src/data or dist/data: two levels up is the package root.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.cache', 'tinyforge');
}

/** Cache key from the input files' paths, sizes and modification times. */
export function cacheKey(kind: string, files: string[]): string {
  const h = createHash('sha256');
  h.update(`${MAGIC}${kind}\n`);
  for (const f of files) {
    const st = statSync(f);
    h.update(`${resolve(f)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 24);
}

interface Header {
  kind: string;
  spec: string;
  source: string;
  classNames: string[];
  channelNames: string[];
  sets: Record<'train' | 'test', { n: number; steps: number; channels: number; subjects: boolean }>;
}

export function writeDatasetCache(path: string, ds: HarDataset): void {
  const header: Header = {
    kind: ds.kind,
    spec: ds.spec,
    source: ds.source,
    classNames: ds.classNames,
    channelNames: ds.channelNames,
    sets: {
      train: {
        n: ds.train.n,
        steps: ds.train.steps,
        channels: ds.train.channels,
        subjects: !!ds.train.subjects,
      },
      test: { n: ds.test.n, steps: ds.test.steps, channels: ds.test.channels, subjects: !!ds.test.subjects },
    },
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1'), len, json];
  for (const s of [ds.train, ds.test]) {
    parts.push(Buffer.from(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    parts.push(Buffer.from(s.y.buffer, s.y.byteOffset, s.y.byteLength));
    if (s.subjects) parts.push(Buffer.from(s.subjects.buffer, s.subjects.byteOffset, s.subjects.byteLength));
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, Buffer.concat(parts));
}

/** The cached data set, or undefined when absent or unreadable (the caller then parses again). */
export function readDatasetCache(path: string): HarDataset | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const buf = readFileSync(path);
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
    const hlen = buf.readUInt32LE(MAGIC.length);
    const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + hlen)) as Header;
    // Copy into a fresh, aligned buffer: typed-array views need 4-byte alignment.
    const body = new Uint8Array(buf.subarray(MAGIC.length + 4 + hlen)).buffer;
    let off = 0;
    const take = <T extends Float32Array | Int32Array>(
      Ctor: new (b: ArrayBuffer, o: number, l: number) => T,
      len: number,
    ): T => {
      const a = new Ctor(body, off, len);
      off += len * 4;
      return a;
    };
    const read = (h: Header['sets']['train']): WindowSet => {
      const x = take(Float32Array, h.n * h.steps * h.channels);
      const y = take(Int32Array, h.n);
      const subjects = h.subjects ? take(Int32Array, h.n) : undefined;
      return { x, y, subjects, n: h.n, steps: h.steps, channels: h.channels };
    };
    const train = read(header.sets.train);
    const test = read(header.sets.test);
    if (off !== body.byteLength) return undefined;
    const { kind, spec, source, classNames, channelNames } = header;
    return { kind, spec, source, classNames, channelNames, train, test };
  } catch {
    return undefined;
  }
}
