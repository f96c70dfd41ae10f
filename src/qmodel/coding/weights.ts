// Weight matrices to bitstreams and back. Encoding checks its input and throws; decoding never
// throws and never reads out of bounds: a damaged stream yields what could be decoded, corrupt=true.
import { TinyforgeError } from '../../util/errors.js';
import { weightRange } from '../../fixedpoint/semantics.js';
import { CODINGS, type Coding, type CodedWeights } from '../model.js';
import { BitReader, BitWriter } from './bitio.js';
import { buildDecodeTables, decodeToken, tableBytes, NO_TOKEN, type DecodeTables } from './decodeTables.js';
import {
  buildHuffmanTable,
  canonicalCodes,
  huffmanTableProblem,
  DEFAULT_MAX_CODE_LENGTH,
} from './huffman.js';
import { encodePacked, fromField } from './packed.js';
import { isRunToken, runLength, tokenize, tokenValue } from './rle.js';

export type CodingChoice = Coding | 'auto';

export interface EncodeOptions {
  /** Huffman code-length limit (default 12, at most MAX_CODE_LENGTH). */
  maxCodeLength?: number;
}

/** Largest weight matrix the decoder will allocate (guards against absurd sizes in a file). */
export const MAX_WEIGHTS = 1 << 26;

function checkInput(values: ArrayLike<number>, rows: number, rowLength: number, bits: number): void {
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new TinyforgeError(`weight width ${bits} bits is not supported`, 'model', 'use 2..8 bits');
  }
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(rowLength) || rowLength < 1) {
    throw new TinyforgeError(`weight matrix ${rows} x ${rowLength} is empty or not integral`, 'model');
  }
  if (values.length !== rows * rowLength) {
    throw new TinyforgeError(
      `weight matrix has ${values.length} values, expected rows * rowLength = ${rows * rowLength}`,
      'model',
    );
  }
  const [lo, hi] = weightRange(bits);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new TinyforgeError(
        `weight ${i} (row ${Math.floor(i / rowLength)}) = ${v} does not fit ${bits} signed bits [${lo}, ${hi}]`,
        'model',
      );
    }
  }
}

function encodeHuffman(
  values: ArrayLike<number>,
  rows: number,
  rowLength: number,
  rle: boolean,
  maxCodeLength: number,
): Pick<CodedWeights, 'bitstream' | 'bitLength' | 'table'> {
  const tokens = tokenize(values, rows, rowLength, rle);
  const freq = new Map<number, number>();
  for (const t of tokens) freq.set(t, (freq.get(t) ?? 0) + 1);
  const table = buildHuffmanTable(freq, maxCodeLength);
  const codes = canonicalCodes(table);
  const w = new BitWriter();
  for (const t of tokens) {
    const c = codes.get(t)!;
    w.write(c.code, c.length);
  }
  return { ...w.finish(), table };
}

/** Bytes a coded layer costs in flash: bitstream plus decode tables. */
export function codedBytes(cw: CodedWeights): number {
  return cw.bitstream.length + tableBytes(cw);
}

/**
 * Codes a weight matrix (rows back to back, see model.ts). 'auto' picks the coding with the fewest
 * bytes (bitstream + decode tables); ties go to the simpler coding (packed, huffman, rle-huffman).
 */
export function encodeWeights(
  values: Int8Array | ArrayLike<number>,
  rows: number,
  rowLength: number,
  bits: number,
  coding: CodingChoice,
  opts: EncodeOptions = {},
): CodedWeights {
  checkInput(values, rows, rowLength, bits);
  if (coding === 'auto') {
    let best: CodedWeights | undefined;
    for (const c of CODINGS) {
      const cw = encodeWeights(values, rows, rowLength, bits, c, opts);
      if (!best || codedBytes(cw) < codedBytes(best)) best = cw;
    }
    return best!;
  }
  const base = { coding, bits, rows, rowLength };
  switch (coding) {
    case 'packed':
      return { ...base, ...encodePacked(values, bits) };
    case 'huffman':
    case 'rle-huffman':
      return {
        ...base,
        ...encodeHuffman(
          values,
          rows,
          rowLength,
          coding === 'rle-huffman',
          opts.maxCodeLength ?? DEFAULT_MAX_CODE_LENGTH,
        ),
      };
    default:
      throw new TinyforgeError(
        `unknown weight coding '${String(coding)}'`,
        'usage',
        `use one of ${CODINGS.join(', ')}, auto`,
      );
  }
}

/** The three codings of one matrix, for reports and the 'auto' decision. */
export function encodeAllCodings(
  values: ArrayLike<number>,
  rows: number,
  rowLength: number,
  bits: number,
  opts: EncodeOptions = {},
): Record<Coding, CodedWeights> {
  return {
    packed: encodeWeights(values, rows, rowLength, bits, 'packed', opts),
    huffman: encodeWeights(values, rows, rowLength, bits, 'huffman', opts),
    'rle-huffman': encodeWeights(values, rows, rowLength, bits, 'rle-huffman', opts),
  };
}

/**
 * What makes coded weights undecodable before reading a bit (sizes, width, table), or null.
 * Tokens must be literals in the weight range, runs only in 'rle-huffman'. A bitstream shorter than
 * bitLength is not a problem here: the decoder reads zeros past its end and reports it corrupt.
 */
export function codedWeightsProblem(cw: CodedWeights): string | null {
  if (!CODINGS.includes(cw.coding)) return `unknown coding '${String(cw.coding)}'`;
  if (!Number.isInteger(cw.bits) || cw.bits < 2 || cw.bits > 8)
    return `weight width ${cw.bits} is not in 2..8`;
  if (!Number.isInteger(cw.rows) || cw.rows < 0 || !Number.isInteger(cw.rowLength) || cw.rowLength < 0) {
    return `weight matrix ${cw.rows} x ${cw.rowLength} is not integral`;
  }
  if (cw.rows * cw.rowLength > MAX_WEIGHTS) return `weight matrix ${cw.rows} x ${cw.rowLength} is too large`;
  if (!(cw.bitstream instanceof Uint8Array)) return 'the bitstream is missing';
  if (!Number.isInteger(cw.bitLength) || cw.bitLength < 0) return `bit length ${cw.bitLength} is invalid`;
  if (cw.coding === 'packed') return null;
  const [lo, hi] = weightRange(cw.bits);
  return huffmanTableProblem(cw.table, (t) => {
    if (isRunToken(t))
      return cw.coding === 'rle-huffman' ? null : `the 'huffman' table has a zero-run token ${t}`;
    const v = tokenValue(t);
    return v < lo || v > hi
      ? `the Huffman table has literal ${v}, outside the ${cw.bits}-bit range [${lo}, ${hi}]`
      : null;
  });
}

/**
 * Decodes a layer row by row, the way the target does:
 * - packed: `bits` bits per weight, sign-extended.
 * - huffman / rle-huffman: tokens until the row is full. A literal fills one weight. A run fills
 *   its zeros; a run longer than the rest of the row is corrupt and is cut at the row's end.
 *   A code that matches nothing is corrupt and stands for one zero weight.
 * Reading past the end of the bitstream array gives zero bits and marks the stream corrupt. After
 * the last row, a position different from `bitLength` also marks it corrupt (finish()).
 * Decoders of invalid coded weights (codedWeightsProblem) are corrupt from the start and give zeros.
 */
export class RowDecoder {
  readonly rowLength: number;
  private readonly reader: BitReader;
  private readonly tables?: DecodeTables;
  private readonly invalid: string | null;
  private failed = false;

  constructor(private readonly cw: CodedWeights) {
    this.invalid = codedWeightsProblem(cw);
    this.rowLength = this.invalid ? 0 : cw.rowLength;
    this.reader = new BitReader(this.invalid ? new Uint8Array(0) : cw.bitstream);
    if (!this.invalid && cw.coding !== 'packed') this.tables = buildDecodeTables(cw.table!);
  }

  /** Why the coded weights cannot be decoded at all, or null. */
  get problem(): string | null {
    return this.invalid;
  }

  get corrupt(): boolean {
    return this.invalid !== null || this.failed || this.reader.corrupt;
  }

  /** Bits consumed so far. */
  get position(): number {
    return this.reader.pos;
  }

  /** Decodes the next row into out[0 .. rowLength-1]. */
  nextRow(out: Int8Array): void {
    const n = this.rowLength;
    if (this.invalid) {
      out.fill(0, 0, Math.min(out.length, this.cw.rowLength | 0));
      return;
    }
    const r = this.reader;
    if (!this.tables) {
      const bits = this.cw.bits;
      for (let i = 0; i < n; i++) out[i] = fromField(r.read(bits), bits);
      return;
    }
    const t = this.tables;
    let pos = 0;
    while (pos < n) {
      const tok = decodeToken(r, t);
      if (tok === NO_TOKEN) {
        this.failed = true;
        out[pos++] = 0;
      } else if (isRunToken(tok)) {
        let run = runLength(tok);
        if (run > n - pos) {
          this.failed = true;
          run = n - pos;
        }
        out.fill(0, pos, pos + run);
        pos += run;
      } else {
        out[pos++] = tokenValue(tok);
      }
    }
  }

  /** Call after the last row: true if the stream was corrupt (including a wrong total length). */
  finish(): boolean {
    if (!this.invalid && this.reader.pos !== this.cw.bitLength) this.failed = true;
    return this.corrupt;
  }
}

/** Decodes all weights (rows back to back). Never throws. */
export function decodeWeights(cw: CodedWeights): { values: Int8Array; corrupt: boolean } {
  const dec = new RowDecoder(cw);
  if (dec.problem) {
    const size = Number.isInteger(cw.rows) && Number.isInteger(cw.rowLength) ? cw.rows * cw.rowLength : 0;
    return { values: new Int8Array(size >= 0 && size <= MAX_WEIGHTS ? size : 0), corrupt: true };
  }
  const values = new Int8Array(cw.rows * cw.rowLength);
  for (let o = 0; o < cw.rows; o++) dec.nextRow(values.subarray(o * cw.rowLength, (o + 1) * cw.rowLength));
  return { values, corrupt: dec.finish() };
}
