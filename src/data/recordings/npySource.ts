// Already-windowed arrays: X [N, T, C] (float), y [N] (int class indices or label strings) and an
// optional subject [N], from one .npz or three .npy files. Each window goes through the same labels,
// channels, checks and splits as windows cut from recordings; time options do not apply to them.
import { TinyforgeError } from '../../util/errors.js';
import type { BaseChannel } from './channels.js';
import type { Collector } from './collector.js';
import { DROPPED, UNKNOWN } from './labels.js';
import { readNpy, readNpz, type NpyArray } from './npy.js';
import type { SourceFile } from './sources.js';
import { WHY, type FileTally } from './tally.js';

interface Arrays {
  x: NpyArray;
  y: NpyArray;
  subject?: NpyArray;
}

function loadArrays(c: Collector, file: SourceFile): Arrays {
  if (file.npy) {
    const subject = file.npy.subject === undefined ? undefined : readNpy(file.npy.subject);
    return { x: readNpy(file.path), y: readNpy(file.npy.y), subject };
  }
  const names = c.d.arrays;
  const m = readNpz(file.path, [names.x, names.y, names.subject]);
  const need = (n: string) => {
    const a = m.get(n);
    if (!a)
      throw new TinyforgeError(
        `${file.path}: no array '${n}' in the archive`,
        'input',
        'name the arrays with "arrays": {"x": ..., "y": ...}',
      );
    return a;
  };
  return { x: need(names.x), y: need(names.y), subject: m.get(names.subject) };
}

function checkShapes(c: Collector, file: SourceFile, a: Arrays): [number, number, number] {
  const bad = (why: string, hint?: string) => new TinyforgeError(`${file.path}: ${why}`, 'input', hint);
  if (a.x.shape.length !== 3 || Array.isArray(a.x.data))
    throw bad(
      `X has shape (${a.x.shape.join(', ')}) and dtype ${a.x.dtype}; expected numbers of shape (N, T, C)`,
    );
  const [n, t, ch] = a.x.shape;
  for (const [what, arr] of [
    ['y', a.y],
    ['subject', a.subject],
  ] as const) {
    if (!arr) continue;
    const ok =
      arr.shape[0] === n && (arr.shape.length === 1 || (arr.shape.length === 2 && arr.shape[1] === 1));
    if (!ok) throw bad(`${what} has shape (${arr.shape.join(', ')}), X has ${n} windows: expected (${n},)`);
  }
  const length = c.d.windows.length;
  if (length !== undefined && length !== t)
    throw bad(
      `windows of ${t} samples, windows.length says ${length}`,
      'arrays are not cut again: make windows.length match T',
    );
  if (c.d.channels && c.d.channels.length !== ch)
    throw bad(`X has ${ch} channels, the description's channels list ${c.d.channels.length}`);
  return [n, t, ch];
}

/** Entry i of a numeric or text array as a string (labels, subjects). */
function entry(arr: NpyArray, i: number, file: SourceFile, what: string): string | number {
  const v = arr.data[i];
  if (typeof v === 'string') return v.trim();
  const num = Number(v);
  if (!Number.isSafeInteger(num))
    throw new TinyforgeError(`${file.path}: window ${i}: ${what} ${String(v)} is not an integer`, 'input');
  return num;
}

class ArrayWindows {
  private readonly src: Float64Array;
  private readonly win: Float32Array;
  private readonly tally: FileTally;

  constructor(
    private readonly c: Collector,
    private readonly file: SourceFile,
    private readonly a: Arrays,
    private readonly shape: [number, number, number],
  ) {
    const [, t, ch] = shape;
    const base: BaseChannel[] =
      c.d.channels ?? Array.from({ length: ch }, (_, i) => ({ name: `ch${i}`, unit: '' }));
    const map = c.prepare(file, t, base);
    this.src = new Float64Array(ch);
    this.win = new Float32Array(t * map.size);
    this.tally = c.tally(file);
    this.tally.rows = shape[0];
    this.tally.rateHz = c.d.time.resample ?? c.d.time.rate;
    if (this.tally.rateHz) this.tally.rateFrom = 'given';
  }

  /** The raw label of window i: a text label, or the name of an integer one. */
  private rawLabel(i: number): string {
    const v = entry(this.a.y, i, this.file, 'label');
    if (typeof v === 'string') return v;
    const names = this.c.d.arrays.labels ?? this.c.d.classes;
    if (!names) return String(v);
    if (!(v >= 0 && v < names.length))
      throw new TinyforgeError(
        `${this.file.path}: window ${i}: label ${v} is not an index 0..${names.length - 1} of ${this.c.d.arrays.labels ? 'arrays.labels' : 'classes'}`,
        'input',
        'integer labels index arrays.labels, else the classes list',
      );
    return names[v];
  }

  private label(i: number): number {
    const raw = this.rawLabel(i);
    const id = this.c.labels.id(raw);
    if (id === UNKNOWN && this.c.d.repair.unknownLabel === 'error')
      throw new TinyforgeError(
        `${this.file.path}: window ${i}: unknown label '${raw}' (${this.c.labels.describe()})`,
        'input',
        'add it to classes, map it with rename, list it in dropClasses, or set "repair": {"unknownLabel": "drop"}',
      );
    return id;
  }

  /** Fills the window buffer; false when it holds a NaN/Inf the description lets us drop. */
  private values(i: number): boolean {
    const [, T, C] = this.shape;
    const x = this.a.x.data as Exclude<NpyArray['data'], string[]>;
    const map = this.c.map!;
    const scale = this.c.d.channels?.map((ch) => ch.scale);
    for (let t = 0; t < T; t++) {
      for (let ch = 0; ch < C; ch++) {
        const v = Number(x[(i * T + t) * C + ch]) * (scale?.[ch] ?? 1);
        if (!Number.isFinite(v)) {
          if (this.c.d.repair.nan === 'error')
            throw new TinyforgeError(
              `${this.file.path}: window ${i}: X[${i}, ${t}, ${ch}] is ${v}`,
              'input',
              'fix the array, or set "repair": {"nan": "drop-window"}',
            );
          this.tally.nanRows++;
          return false;
        }
        this.src[ch] = v;
      }
      map.apply(this.src, 0, this.win, t * map.size);
    }
    return true;
  }

  window(i: number): void {
    const label = this.label(i);
    if (label === UNKNOWN) this.tally.unknownRows++;
    if (!this.values(i)) return this.tally.dropWindow(WHY.nan);
    if (label === UNKNOWN) return this.tally.dropWindow(WHY.unknownLabel);
    if (label === DROPPED) return this.tally.dropWindow(WHY.droppedClass);
    const subject = this.a.subject
      ? String(entry(this.a.subject, i, this.file, 'subject'))
      : this.file.subject;
    this.tally.windows++;
    this.c.add(this.win, label, this.c.group(this.file, subject, this.file.session));
  }
}

/** Reads one .npz file or .npy triple into the collector. */
export function readArraySource(c: Collector, file: SourceFile): void {
  const a = loadArrays(c, file);
  const shape = checkShapes(c, file, a);
  const w = new ArrayWindows(c, file, a, shape);
  for (let i = 0; i < shape[0]; i++) w.window(i);
}
