// Every window kept, before the splits are known (a fraction split needs all units first).
// Windows fill a fixed-size chunk; each full chunk is written to a temporary file and the buffer
// reused. When the splits are built, their arrays are filled from that file one chunk at a time.
// So the windows are held in memory once (in their splits), never twice (store + splits): what
// keeps a gigabyte of CSV under 1 GB of memory. A store smaller than one chunk never touches disk.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Floats per chunk (16 MiB). */
const CHUNK_FLOATS = 1 << 22;

class IntList {
  data = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  get(i: number): number {
    return this.data[i];
  }
}

/** Names to dense ids 0, 1, 2, ... in order of first appearance. */
export class Interner {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
    }
    return id;
  }
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Full chunks, in a temporary file. */
class SpillFile {
  readonly dir = mkdtempSync(join(tmpdir(), 'tf-windows-'));
  private readonly fd = openSync(join(this.dir, 'windows.f32'), 'w+');
  chunks = 0;

  constructor(private readonly chunkBytes: number) {}

  write(chunk: Float32Array): void {
    const b = bytesOf(chunk);
    for (let off = 0; off < b.length;)
      off += writeSync(this.fd, b, off, b.length - off, this.chunks * this.chunkBytes + off);
    this.chunks++;
  }

  read(c: number, into: Float32Array): void {
    const b = bytesOf(into);
    for (let off = 0; off < b.length;) {
      const k = readSync(this.fd, b, off, b.length - off, c * this.chunkBytes + off);
      if (k === 0) throw new Error(`window spill file ended early (chunk ${c})`);
      off += k;
    }
  }

  dispose(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class WindowStore {
  readonly labels = new IntList();
  readonly units = new IntList();
  readonly subjects = new IntList();
  readonly unitNames = new Interner();
  readonly subjectNames = new Interner();
  private readonly perChunk: number;
  private chunk?: Float32Array;
  private spill?: SpillFile;
  n = 0;

  constructor(
    readonly steps: number,
    readonly channels: number,
    /** Floats per chunk (tests make it small to exercise the file). */
    chunkFloats = CHUNK_FLOATS,
  ) {
    this.perChunk = Math.max(1, Math.floor(chunkFloats / (steps * channels)));
  }

  /** The temporary file's folder, while there is one. */
  get spillDir(): string | undefined {
    return this.spill?.dir;
  }

  get windowSize(): number {
    return this.steps * this.channels;
  }

  add(x: Float32Array, label: number, unit: number, subject: number): void {
    const w = this.windowSize;
    const k = this.n % this.perChunk;
    this.chunk ??= new Float32Array(this.perChunk * w);
    this.chunk.set(x.subarray(0, w), k * w);
    this.labels.push(label);
    this.units.push(unit);
    this.subjects.push(subject);
    this.n++;
    if (k === this.perChunk - 1) {
      this.spill ??= new SpillFile(this.chunk.byteLength);
      this.spill.write(this.chunk);
    }
  }

  /** Visits every window in order (`x` is a view, valid during the call), then frees the store. */
  drain(visit: (x: Float32Array, i: number) => void): void {
    const w = this.windowSize;
    try {
      const full = this.spill?.chunks ?? 0;
      // Spilled chunks are read into a buffer of their own: `chunk` still holds the last, partial one.
      const buf = full ? new Float32Array(this.perChunk * w) : undefined;
      for (let c = 0; c <= full; c++) {
        const from = c < full ? buf! : this.chunk;
        if (c < full) this.spill!.read(c, buf!);
        const inChunk = Math.min(this.perChunk, this.n - c * this.perChunk);
        for (let k = 0; k < inChunk; k++) visit(from!.subarray(k * w, (k + 1) * w), c * this.perChunk + k);
      }
    } finally {
      this.dispose();
    }
  }

  /** Frees the chunk and removes the temporary file (also when loading fails). */
  dispose(): void {
    this.chunk = undefined;
    this.spill?.dispose();
    this.spill = undefined;
  }
}
