// Accessors for the parts of the TFLite flatbuffer (tensorflow/compiler/mlir/lite/schema/schema.fbs)
// the importer reads, on the `flatbuffers` runtime's ByteBuffer. Field ids are the schema's
// declaration order (a union takes two ids: its type, then its value). The runtime does not check
// offsets (a read past the end gives 0), so every table, vector and string is bounds-checked here:
// a truncated or foreign file is an 'input' error, never garbage.
import { ByteBuffer } from 'flatbuffers';
import { TinyforgeError } from '../../util/errors.js';
import type { TfliteOptions } from '../../ops/tfliteTypes.js';

/** A table of the flatbuffer, with bounds-checked field access. */
export class FbTable implements TfliteOptions {
  constructor(
    private readonly fb: FlatFile,
    readonly pos: number,
  ) {
    fb.need(pos, 4, 'a table');
    const vt = pos - fb.bb.readInt32(pos);
    fb.need(vt, 4, 'a vtable');
    fb.need(vt, fb.bb.readUint16(vt), 'a vtable');
  }

  /** Absolute position of a field's value, or 0 when the field is absent. */
  private at(field: number, bytes: number): number {
    const o = this.fb.bb.__offset(this.pos, 4 + 2 * field);
    if (!o) return 0;
    this.fb.need(this.pos + o, bytes, 'a field');
    return this.pos + o;
  }

  byte(field: number, dflt = 0): number {
    const p = this.at(field, 1);
    return p ? this.fb.bb.readInt8(p) : dflt;
  }
  int(field: number, dflt = 0): number {
    const p = this.at(field, 4);
    return p ? this.fb.bb.readInt32(p) : dflt;
  }
  uint(field: number, dflt = 0): number {
    const p = this.at(field, 4);
    return p ? this.fb.bb.readUint32(p) : dflt;
  }
  float(field: number, dflt = 0): number {
    const p = this.at(field, 4);
    return p ? this.fb.bb.readFloat32(p) : dflt;
  }
  bool(field: number, dflt = false): boolean {
    const p = this.at(field, 1);
    return p ? this.fb.bb.readUint8(p) !== 0 : dflt;
  }
  /** A ulong field as a number (buffer offsets and sizes, far below 2^53). */
  ulong(field: number): number {
    const p = this.at(field, 8);
    return p ? Number(this.fb.bb.readUint64(p)) : 0;
  }

  string(field: number): string | undefined {
    const p = this.at(field, 4);
    if (!p) return undefined;
    const s = this.fb.vectorAt(p, 1);
    return new TextDecoder().decode(this.fb.bytes.subarray(s.start, s.start + s.length));
  }

  /** A sub-table, or undefined when absent. */
  table(field: number): FbTable | undefined {
    const p = this.at(field, 4);
    return p ? new FbTable(this.fb, this.fb.bb.__indirect(p)) : undefined;
  }

  /** A vector of tables. */
  tables(field: number): FbTable[] {
    const p = this.at(field, 4);
    if (!p) return [];
    const { start, length } = this.fb.vectorAt(p, 4);
    return Array.from({ length }, (_, i) => new FbTable(this.fb, this.fb.bb.__indirect(start + 4 * i)));
  }

  ints(field: number): number[] | undefined {
    const p = this.at(field, 4);
    if (!p) return undefined;
    const { start, length } = this.fb.vectorAt(p, 4);
    return Array.from({ length }, (_, i) => this.fb.bb.readInt32(start + 4 * i));
  }
  floats(field: number): number[] | undefined {
    const p = this.at(field, 4);
    if (!p) return undefined;
    const { start, length } = this.fb.vectorAt(p, 4);
    return Array.from({ length }, (_, i) => this.fb.bb.readFloat32(start + 4 * i));
  }
  longs(field: number): number[] | undefined {
    const p = this.at(field, 4);
    if (!p) return undefined;
    const { start, length } = this.fb.vectorAt(p, 8);
    return Array.from({ length }, (_, i) => Number(this.fb.bb.readInt64(start + 8 * i)));
  }
  /** A [ubyte] vector as a view of the file's bytes. */
  bytes(field: number): Uint8Array | undefined {
    const p = this.at(field, 4);
    if (!p) return undefined;
    const { start, length } = this.fb.vectorAt(p, 1);
    return this.fb.bytes.subarray(start, start + length);
  }
}

/** The file's bytes and the runtime's ByteBuffer over them. */
export class FlatFile {
  readonly bb: ByteBuffer;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.bb = new ByteBuffer(bytes);
  }

  malformed(what: string): never {
    throw new TinyforgeError(
      `${this.file}: not a valid TensorFlow Lite file (${what})`,
      'input',
      'give a .tflite file written by the TensorFlow Lite converter',
    );
  }

  /** Throws unless `bytes` bytes from `pos` lie inside the file. */
  need(pos: number, bytes: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || bytes < 0 || pos + bytes > this.bytes.length)
      this.malformed(`${what} at byte ${pos} lies outside the ${this.bytes.length}-byte file`);
  }

  /** The vector whose offset is stored at `p`: its first element and length, checked. */
  vectorAt(p: number, elementBytes: number): { start: number; length: number } {
    const v = this.bb.__indirect(p);
    this.need(v, 4, 'a vector');
    const length = this.bb.readUint32(v);
    this.need(v + 4, length * elementBytes, 'a vector');
    return { start: v + 4, length };
  }

  /** The root table (Model), after the "TFL3" file identifier check. */
  root(): FbTable {
    if (this.bytes.length < 8) this.malformed('shorter than a flatbuffer header');
    if (this.bb.getBufferIdentifier() !== 'TFL3')
      this.malformed(`file identifier '${this.bb.getBufferIdentifier()}', expected 'TFL3'`);
    return new FbTable(this, this.bb.readUint32(0));
  }
}

// Field ids of the fields read (schema.fbs declaration order; a union takes two ids).
export const MODEL = { operatorCodes: 1, subgraphs: 2, buffers: 4 };
export const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3 };
export const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, shapeSignature: 7 };
export const QUANTIZATION = { scale: 2, zeroPoint: 3, quantizedDimension: 6 };
/** builtin_options_type is field 3, builtin_options (the union's table) field 4. */
export const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptions: 4 };
export const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, builtinCode: 3 };
export const BUFFER = { data: 0, offset: 1, size: 2 };
