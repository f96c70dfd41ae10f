// CompressedModel <-> .tfm bytes and files. Loading validates everything a damaged or hand-edited
// file can get wrong and names the file and the problem (TinyforgeError 'input'); it never returns
// a model the reference or the C generator would misread.
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TinyforgeError } from '../util/errors.js';
import { codedWeightsProblem, decodeWeights } from './coding/weights.js';
import { checkModel } from './check.js';
import { quantizedOps } from '../ops/registry.js';
import { schemeOf, type CodedWeights, type CompressedModel, type QLayer } from './model.js';
import { packTfm, unpackTfm } from './container.js';
import { headerSchemaOf, type TfmCodedWeights, type TfmHeader, type TfmLayer } from './schema.js';

/** Serializes a model (checked first: an invalid model is never written). */
export function encodeTfm(model: CompressedModel): Uint8Array {
  checkModel(model);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const put = (bytes: Uint8Array, align: number): number => {
    const pad = (align - (size % align)) % align;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      size += pad;
    }
    const offset = size;
    chunks.push(bytes);
    size += bytes.length;
    return offset;
  };
  const layers: TfmLayer[] = model.layers.map((l) => {
    const coded = quantizedOps(l.kind, schemeOf(model)).coded?.(l);
    if (!coded) return { ...l } as TfmLayer;
    const bias = new Uint8Array(coded.bias.length * 4);
    const dv = new DataView(bias.buffer);
    coded.bias.forEach((b, i) => dv.setInt32(i * 4, b, true));
    const biasOffset = put(bias, 4);
    const w = coded.weights;
    const bitstream = { offset: put(w.bitstream, 1), bytes: w.bitstream.length };
    const weights: TfmCodedWeights = {
      coding: w.coding,
      bits: w.bits,
      rows: w.rows,
      rowLength: w.rowLength,
      bitLength: w.bitLength,
      bitstream,
      ...(w.table
        ? {
            table: {
              counts: [...w.table.counts],
              symbols: [...w.table.symbols],
              maxLength: w.table.maxLength,
            },
          }
        : {}),
    };
    return { ...l, bias: { offset: biasOffset, count: coded.bias.length }, weights } as TfmLayer;
  });
  const header: TfmHeader = {
    ...(model.scheme === 'tflite-int8' ? { scheme: model.scheme } : {}),
    ...(model.affine ? { affine: model.affine } : {}),
    inputShape: model.inputShape,
    classNames: model.classNames,
    normalization: model.normalization,
    inputFrac: model.inputFrac,
    layers,
    meta: model.meta,
  };
  const payload = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    payload.set(c, at);
    at += c.length;
  }
  return packTfm(header, payload);
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)),
    '',
  );
}

/** Parses and validates .tfm bytes; `name` (the file path) goes into every error message. */
export function decodeTfm(buf: Uint8Array, name = '<buffer>'): CompressedModel {
  const { header, payload } = unpackTfm(buf, name);
  const fail = (why: string): never => {
    throw new TinyforgeError(
      `${name}: ${why}`,
      'input',
      "the file is damaged or was not written by this tinyforge; recreate it with 'tinyforge compress'",
    );
  };
  const parsed = headerSchemaOf(header).safeParse(header);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(
      `invalid header: ${issuePath(issue.path) || 'header'}: ${issue.message}${parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : ''}`,
    );
  }
  const h = parsed.data! as TfmHeader;
  const range = (what: string, offset: number, bytes: number): Uint8Array => {
    if (offset + bytes > payload.length) {
      fail(`${what} (bytes ${offset}..${offset + bytes}) lies outside the ${payload.length}-byte payload`);
    }
    // A copy as a plain Uint8Array (a Buffer's slice would be a view of the whole file).
    return new Uint8Array(payload.subarray(offset, offset + bytes));
  };
  const layers: QLayer[] = h.layers.map((entry) => {
    // An operator with coded weights keeps its biases and bitstream in the payload (docs/format.md).
    const kind = String((entry as { kind: unknown }).kind);
    if (!quantizedOps(kind, schemeOf(h)).coded) return { ...entry } as unknown as QLayer;
    const l = entry as { name: string; bias: { offset: number; count: number }; weights: TfmCodedWeights };
    const where = `layer '${l.name}'`;
    const biasBytes = range(`the bias of ${where}`, l.bias.offset, l.bias.count * 4);
    const dv = new DataView(biasBytes.buffer, biasBytes.byteOffset, biasBytes.byteLength);
    const bias = Int32Array.from({ length: l.bias.count }, (_, i) => dv.getInt32(i * 4, true));
    const w = l.weights;
    const bitstream = range(`the bitstream of ${where}`, w.bitstream.offset, w.bitstream.bytes);
    const need = Math.ceil(w.bitLength / 8);
    if (bitstream.length < need) {
      fail(
        `the bitstream of ${where} has ${bitstream.length} bytes, shorter than its ${w.bitLength} bits need (${need})`,
      );
    }
    if (w.coding === 'packed' && w.table) fail(`${where} is 'packed' but has a Huffman table`);
    const weights: CodedWeights = {
      coding: w.coding,
      bits: w.bits,
      rows: w.rows,
      rowLength: w.rowLength,
      bitstream,
      bitLength: w.bitLength,
      ...(w.table ? { table: w.table } : {}),
    };
    const problem = codedWeightsProblem(weights);
    if (problem)
      fail(
        `${where} has invalid coded weights: ${problem.replace(/^the Huffman table/, 'its Huffman table')}`,
      );
    return { ...l, bias, weights } as unknown as QLayer;
  });
  const model: CompressedModel = {
    ...(h.scheme ? { scheme: h.scheme } : {}),
    ...(h.affine ? { affine: h.affine } : {}),
    inputShape: h.inputShape,
    classNames: h.classNames,
    normalization: h.normalization,
    inputFrac: h.inputFrac,
    layers,
    meta: h.meta,
  };
  try {
    checkModel(model);
  } catch (e) {
    if (e instanceof TinyforgeError) fail(`inconsistent model: ${e.message}`);
    throw e;
  }
  // The checksum guards against damage, not against a writer's bug: decode every stream once.
  for (const l of layers) {
    const w = quantizedOps(l.kind, schemeOf(model)).coded?.(l)?.weights;
    if (w && decodeWeights(w).corrupt)
      fail(
        `the bitstream of layer '${l.name}' does not decode to exactly ${w.rows} x ${w.rowLength} weights in ${w.bitLength} bits`,
      );
  }
  return model;
}

/** Writes a .tfm file atomically (temporary file in the same directory, then rename). */
export async function writeTfm(path: string, model: CompressedModel): Promise<void> {
  const bytes = encodeTfm(model);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new TinyforgeError(
      `cannot write model file '${path}': ${(e as Error).message}`,
      'input',
      'check that the directory exists and is writable',
    );
  }
}

/** Reads and validates a .tfm file. */
export async function readTfm(path: string): Promise<CompressedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TinyforgeError(
      `cannot read model file '${path}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      'input',
      "create it with 'tinyforge compress'",
    );
  }
  return decodeTfm(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
