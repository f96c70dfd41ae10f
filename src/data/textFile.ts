// Reading the UCI HAR text files: plain or gzip, CRLF or LF, whitespace-separated numbers
// ("  1.1653150e-002"), with errors that name the file and the line.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { TinyforgeError } from '../util/errors.js';

/** `base` itself or `base.gz`, whichever exists; throws 'input' naming both when neither does. */
export function findPlainOrGz(base: string): string {
  if (existsSync(base)) return base;
  if (existsSync(`${base}.gz`)) return `${base}.gz`;
  throw new TinyforgeError(
    `missing data file ${base} (or ${base}.gz)`,
    'input',
    'point --data at the directory containing "UCI HAR Dataset/" (the original layout, files plain or gzipped)',
  );
}

/** The bytes of a data file; an unreadable file is an 'input' error naming it. */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TinyforgeError(`cannot read ${path}: ${(e as Error).message}`, 'input');
  }
}

/** The text of a file, gunzipped when its name ends in .gz. */
export function readTextFile(path: string): string {
  let buf = readInputFile(path);
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new TinyforgeError(`${path} is not a valid gzip file: ${(e as Error).message}`, 'input');
    }
  }
  return buf.toString('latin1');
}

/** Non-empty lines with their 1-based line numbers (a trailing newline is not a line). */
function* lines(text: string): Generator<[string, number]> {
  let start = 0;
  let no = 1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') yield [line, no];
    start = end + 1;
    no++;
  }
}

const WS = /\s+/;

/**
 * Parses `cols` numbers per line, handing each to `sink(row, col, value)`; returns the number of rows.
 * Rejects ragged lines and anything that is not a finite number (NaN, Inf, garbage).
 */
export function parseMatrixInto(
  path: string,
  text: string,
  cols: number,
  sink: (row: number, col: number, value: number) => void,
  maxRows = Infinity,
): number {
  let row = 0;
  for (const [line, no] of lines(text)) {
    const parts = line.trim().split(WS);
    if (parts.length !== cols)
      throw new TinyforgeError(
        `${path}:${no}: expected ${cols} values, found ${parts.length} (ragged line)`,
        'input',
        'the file is truncated or damaged: restore it from the original UCI HAR archive',
      );
    if (row >= maxRows)
      throw new TinyforgeError(`${path}:${no}: more lines than the ${maxRows} expected`, 'input');
    for (let c = 0; c < cols; c++) {
      const v = Number(parts[c]);
      if (!Number.isFinite(v))
        throw new TinyforgeError(
          `${path}:${no}: value ${c + 1} ('${parts[c]}') is not a finite number`,
          'input',
          'the file is damaged: restore it from the original UCI HAR archive',
        );
      sink(row, c, v);
    }
    row++;
  }
  return row;
}

/** One integer per line (labels, subject ids), each in [lo, hi]. */
export function parseIntColumn(path: string, text: string, lo: number, hi: number, what: string): Int32Array {
  const out: number[] = [];
  for (const [line, no] of lines(text)) {
    const t = line.trim();
    const v = Number(t);
    if (!/^[+-]?\d+$/.test(t) || !Number.isSafeInteger(v))
      throw new TinyforgeError(`${path}:${no}: ${what} '${t}' is not an integer`, 'input');
    if (v < lo || v > hi)
      throw new TinyforgeError(
        `${path}:${no}: ${what} ${v} is out of range ${lo}..${hi}`,
        'input',
        lo === 1 ? 'labels are 1-based activity ids listed in activity_labels.txt' : undefined,
      );
    out.push(v);
  }
  return Int32Array.from(out);
}
