// NumPy .npy arrays (and .npz archives of them): read with npyjs (numeric dtypes) and fflate (the
// zip container, synchronously: JSZip only reads asynchronously), plus small writers for tests and
// examples. Text arrays (dtype <U, |S) are decoded here: npyjs spreads every code point into one
// function call, which overflows the stack beyond ~100k characters (a label array of 20k windows).
import { unzipSync, zipSync } from 'fflate';
import { dump, parse } from 'npyjs';
import { TinyforgeError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/files.js';
import { readInputFile } from '../textFile.js';

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export interface NpyArray {
  shape: number[];
  /** dtype without its byte-order mark, e.g. 'f4', 'i8', 'U12'. */
  dtype: string;
  data: NumericArray | string[];
}

interface NpyHeader {
  descr: string;
  shape: number[];
  fortran: boolean;
  dataOffset: number;
}

function readHeader(bytes: Uint8Array, name: string): NpyHeader {
  const bad = (why: string) => new TinyforgeError(`${name}: not a valid .npy array (${why})`, 'input');
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== '\x93NUMPY')
    throw bad('no NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v1 = bytes[6] <= 1;
  const start = v1 ? 10 : 12;
  // Version 2 and 3 have a 4-byte header length: a 10- or 11-byte file has none (npy-short-v2-header).
  if (bytes.length < start) throw bad(`${bytes.length} bytes, shorter than a version ${bytes[6]} preamble`);
  const len = v1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const text = Buffer.from(bytes.subarray(start, start + len)).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || shapeText === undefined) throw bad(`header ${text.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0)) throw bad(`shape (${shapeText})`);
  if (start + len > bytes.length)
    throw bad(`its header claims ${len} bytes, the file has ${bytes.length - start}`);
  return { descr, shape, fortran: /'fortran_order'\s*:\s*True/.test(text), dataOffset: start + len };
}

/** Fixed-width text: UTF-32 code points (U) or bytes (S), NUL-padded. */
function decodeText(bytes: Uint8Array, h: NpyHeader, count: number, name: string): string[] {
  const code = h.descr.slice(1);
  const width = Number(code.slice(1));
  const unit = code[0] === 'U' ? 4 : 1;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + h.dataOffset, count * width * unit);
  const out: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let j = 0; j < width; j++) {
      const cp = unit === 4 ? body.readUInt32LE((i * width + j) * 4) : body[i * width + j];
      if (cp === 0) break;
      if (cp > 0x10ffff)
        throw new TinyforgeError(`${name}: string ${i} holds ${cp}, not a Unicode code point`, 'input');
      s += String.fromCodePoint(cp);
    }
    out[i] = s;
  }
  return out;
}

/** Parses one .npy array; `name` names it in errors. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const h = readHeader(bytes, name);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const bad = (why: string, hint?: string) => new TinyforgeError(`${name}: ${why}`, 'input', hint);
  if (h.fortran) throw bad('Fortran-ordered array', 'save it with np.ascontiguousarray(a)');
  if (h.descr[0] === '>' && !/^.[ui]1$/.test(h.descr))
    throw bad(`big-endian dtype ${h.descr}`, "save it as '<' (little-endian)");
  const text = /^.([US])(\d+)$/.exec(h.descr);
  if (!text && !/^.(f2|f4|f8|i1|u1|i2|u2|i4|u4|i8|u8)$/.test(h.descr))
    throw bad(
      `dtype ${h.descr} is not supported`,
      'use float or int arrays, and str (not object) arrays for labels',
    );
  // Checked before anything is allocated: the shape must match the bytes that are there.
  const size = text ? (text[1] === 'U' ? 4 : 1) * Number(text[2]) : Number(/\d+$/.exec(h.descr)![0]);
  const end = h.dataOffset + count * size;
  if (size === 0) throw bad(`zero-width dtype ${h.descr}`);
  if (bytes.byteLength < end)
    throw bad(`${bytes.byteLength - h.dataOffset} data bytes for shape (${h.shape.join(', ')})`);
  if (text) return { shape: h.shape, dtype: h.descr.slice(1), data: decodeText(bytes, h, count, name) };
  // npyjs makes typed-array views from the data offset to the end of the buffer: it needs a buffer
  // of its own that ends with the data (copied only when `bytes` is not exactly that).
  const own =
    bytes.byteOffset === 0 && bytes.buffer.byteLength === end && bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : new Uint8Array(bytes.subarray(0, end)).buffer;
  // NumPy pads the header so that the data starts at a multiple of 64 bytes; typed arrays need it.
  if (h.dataOffset % size !== 0)
    throw bad(`the data starts at byte ${h.dataOffset}, not a multiple of ${size}`);
  let data: NumericArray;
  try {
    data = parse(own).data as NumericArray;
  } catch (e) {
    // npyjs reads the header again, its own way: whatever it refuses is a damaged file.
    throw bad(`not a valid .npy array (${(e as Error).message})`);
  }
  return { shape: h.shape, dtype: h.descr.slice(1), data };
}

/** Reads a .npy file. */
export function readNpy(path: string): NpyArray {
  return parseNpy(readInputFile(path), path);
}

/** The named arrays of a .npz file (members `<name>.npy`); absent ones are left out. */
export function readNpz(path: string, names: string[]): Map<string, NpyArray> {
  const bytes = readInputFile(path);
  let files: Record<string, Uint8Array>;
  try {
    const wanted = new Set(names.map((n) => `${n}.npy`));
    files = unzipSync(bytes, { filter: (f) => wanted.has(f.name) });
  } catch (e) {
    throw new TinyforgeError(`${path}: not a readable .npz (zip) file: ${(e as Error).message}`, 'input');
  }
  const out = new Map<string, NpyArray>();
  for (const n of names) if (files[`${n}.npy`]) out.set(n, parseNpy(files[`${n}.npy`], `${path}:${n}`));
  return out;
}

/** The bytes of a .npy file holding `data` with this shape (strings are stored as dtype U). */
export function npyBytes(data: NumericArray | string[], shape: number[]): Uint8Array {
  if (Array.isArray(data)) {
    const width = Math.max(1, ...data.map((s) => [...s].length));
    return new Uint8Array(dump(data, shape, { dtype: `U${width}` }));
  }
  return new Uint8Array(dump(data, shape));
}

/** Writes a .npy file. */
export function writeNpy(path: string, data: NumericArray | string[], shape: number[]): void {
  writeFileAtomic(path, npyBytes(data, shape));
}

/** Writes a .npz file; `compress` as numpy's savez_compressed, else stored as savez. */
export function writeNpz(
  path: string,
  arrays: Record<string, { data: NumericArray | string[]; shape: number[] }>,
  compress = false,
): void {
  const members = Object.fromEntries(
    Object.entries(arrays).map(([n, a]) => [`${n}.npy`, npyBytes(a.data, a.shape)] as const),
  );
  writeFileAtomic(path, zipSync(members, { level: compress ? 6 : 0 }));
}
