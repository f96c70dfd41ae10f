// The .tfm container: magic, version, header JSON, payload, CRC-32 (layout in docs/format.md).
// This layer only frames bytes; schema.ts gives the header its meaning.
import { TinyforgeError } from '../util/errors.js';
import { crc32 } from './crc32.js';

/** "TFM" then 0x00: the first four bytes of every .tfm file. */
export const TFM_MAGIC = Uint8Array.of(0x54, 0x46, 0x4d, 0x00);
/**
 * Format version this build writes. Version 2 added layer kinds and fields (rank-3 shapes, 2D and
 * depthwise convolutions, merges, table activations, dilation); a version-1 file is a valid
 * version-2 file, so both are read.
 */
export const FORMAT_VERSION = 2;
/** Versions this build reads. */
export const READABLE_VERSIONS: readonly number[] = [1, 2];
/** magic (4) + version (4) + header length (4) + payload length (4). */
export const PREAMBLE_BYTES = 16;
export const CRC_BYTES = 4;

/** Frames a header (any JSON value) and a payload into a .tfm byte array. */
export function packTfm(header: unknown, payload: Uint8Array, version = FORMAT_VERSION): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const total = PREAMBLE_BYTES + json.length + payload.length + CRC_BYTES;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(TFM_MAGIC, 0);
  dv.setUint32(4, version, true);
  dv.setUint32(8, json.length, true);
  dv.setUint32(12, payload.length, true);
  out.set(json, PREAMBLE_BYTES);
  out.set(payload, PREAMBLE_BYTES + json.length);
  dv.setUint32(total - CRC_BYTES, crc32(out.subarray(0, total - CRC_BYTES)), true);
  return out;
}

/** Checks the frame (magic, version, lengths, checksum) and returns the parsed header and the payload. */
export function unpackTfm(buf: Uint8Array, name: string): { header: unknown; payload: Uint8Array } {
  const fail = (why: string, hint?: string): never => {
    throw new TinyforgeError(`${name}: ${why}`, 'input', hint);
  };
  const recompress = "recreate it with 'tinyforge compress'";
  const magicOk = TFM_MAGIC.every((b, i) => i >= buf.length || buf[i] === b);
  if (!magicOk || buf.length === 0) {
    fail(
      'not a tinyforge model file (wrong magic number; expected "TFM\\0")',
      'pass a .tfm file written by tinyforge compress',
    );
  }
  if (buf.length < PREAMBLE_BYTES + CRC_BYTES) fail(`file is truncated (${buf.length} bytes)`, recompress);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version)) {
    fail(
      `unsupported .tfm format version ${version} (this tinyforge reads versions ${READABLE_VERSIONS.join(' and ')})`,
      version > FORMAT_VERSION ? 'use the tinyforge version that wrote it, or a newer one' : recompress,
    );
  }
  const headerLength = dv.getUint32(8, true);
  const payloadLength = dv.getUint32(12, true);
  const expected = PREAMBLE_BYTES + headerLength + payloadLength + CRC_BYTES;
  if (buf.length < expected)
    fail(`file is truncated: ${buf.length} bytes, its header says ${expected}`, recompress);
  if (buf.length > expected)
    fail(`file has ${buf.length - expected} unexpected bytes after its end (${expected} bytes)`, recompress);
  const stored = dv.getUint32(expected - CRC_BYTES, true);
  const actual = crc32(buf.subarray(0, expected - CRC_BYTES));
  if (stored !== actual) {
    fail(
      `checksum mismatch (stored CRC-32 ${hex(stored)}, contents give ${hex(actual)}): the file is damaged`,
      recompress,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(
        buf.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength),
      ),
    );
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`, recompress);
  }
  const start = PREAMBLE_BYTES + headerLength;
  return { header, payload: buf.subarray(start, start + payloadLength) };
}

function hex(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}
