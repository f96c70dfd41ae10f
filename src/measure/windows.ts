// Input windows for the measurement harness: quantized exactly as the model expects (the host
// reference's quantizeWindow), in the harness's windows file format (firmware/harness/harness.c):
// 16-byte header "TFW1", uint32 n, T, C little-endian, then n * T * C int8 values, channels last.
import { readFileSync } from 'node:fs';
import type { CompressedModel } from '../qmodel/model.js';
import { quantizeWindow } from '../reference/input.js';
import { TinyforgeError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';

export const WINDOWS_MAGIC = 'TFW1';
export const WINDOWS_HEADER_BYTES = 16;

/** n raw windows (n * T * C floats, channels last) -> n * T * C int8 model inputs. */
export function quantizeWindows(model: CompressedModel, raw: Float32Array, n: number): Int8Array {
  const [T, C] = model.inputShape;
  const size = T * C;
  if (!Number.isInteger(n) || n < 1) {
    throw new TinyforgeError(`need at least one window to run, got ${n}`, 'usage');
  }
  if (raw.length < n * size) {
    throw new TinyforgeError(
      `${n} windows of ${T} x ${C} need ${n * size} values, the data has ${raw.length}`,
      'input',
      'The data set must have the shape of the model input (time steps x channels).',
    );
  }
  const out = new Int8Array(n * size);
  for (let i = 0; i < n; i++)
    out.set(quantizeWindow(model, raw.subarray(i * size, (i + 1) * size), `window ${i}`), i * size);
  return out;
}

export function encodeWindowsFile(inputs: Int8Array, n: number, T: number, C: number): Uint8Array {
  if (inputs.length !== n * T * C) {
    throw new RangeError(`windows file: ${inputs.length} values for ${n} windows of ${T} x ${C}`);
  }
  const buf = new Uint8Array(WINDOWS_HEADER_BYTES + inputs.length);
  const dv = new DataView(buf.buffer);
  buf.set(Buffer.from(WINDOWS_MAGIC, 'latin1'), 0);
  dv.setUint32(4, n, true);
  dv.setUint32(8, T, true);
  dv.setUint32(12, C, true);
  buf.set(new Uint8Array(inputs.buffer, inputs.byteOffset, inputs.length), WINDOWS_HEADER_BYTES);
  return buf;
}

export function writeWindowsFile(path: string, inputs: Int8Array, n: number, T: number, C: number): void {
  writeFileAtomic(path, encodeWindowsFile(inputs, n, T, C));
}

export function readWindowsFile(path: string): { inputs: Int8Array; n: number; T: number; C: number } {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new TinyforgeError(`cannot read windows file ${path}: ${(e as Error).message}`, 'input');
  }
  const bad = (why: string) =>
    new TinyforgeError(`${path} is not a tinyforge windows file: ${why}`, 'input', 'Rebuild to rewrite it.');
  if (buf.length < WINDOWS_HEADER_BYTES || buf.toString('latin1', 0, 4) !== WINDOWS_MAGIC) {
    throw bad('no TFW1 header');
  }
  const n = buf.readUInt32LE(4);
  const T = buf.readUInt32LE(8);
  const C = buf.readUInt32LE(12);
  if (buf.length !== WINDOWS_HEADER_BYTES + n * T * C) throw bad('its size differs from its header');
  const inputs = new Int8Array(buf.buffer, buf.byteOffset + WINDOWS_HEADER_BYTES, n * T * C).slice();
  return { inputs, n, T, C };
}
