// Synchronous, bounded-memory CSV/TSV reading: the file is read in fixed-size chunks with
// fs.readSync and each chunk is fed to csv-parse's record parser, which hands back complete records.
// csv-parse's stream (a Transform) defers errors and its last record to later ticks; its parser
// object (`Parser#api`, what the stream and `csv-parse/sync` call) parses synchronously, so the
// loader stays synchronous like its callers. Memory: one chunk plus the parser's partial record.
import { closeSync, openSync, readSync } from 'node:fs';
import { CsvError, Parser } from 'csv-parse';
import { TinyforgeError } from '../../util/errors.js';

/** Bytes read per chunk. */
export const CSV_CHUNK_BYTES = 1 << 20;
/** Longest record accepted: an unclosed quote must not swallow the rest of the file into memory. */
const MAX_RECORD_BYTES = 1 << 20;

type Push = (record: string[]) => void;

/** The synchronous record parser inside csv-parse's Parser (not in its type declarations). */
interface RecordParser {
  parse(chunk: Buffer | undefined, end: boolean, push: Push, close: () => void): Error | undefined;
  info: { lines: number };
}

function recordParser(delimiter: string): RecordParser {
  const p = new Parser({
    delimiter,
    bom: true,
    skip_empty_lines: true,
    // Rows of the wrong length are reported here, with the column names.
    relax_column_count: true,
    max_record_size: MAX_RECORD_BYTES,
  }) as unknown as { api?: RecordParser };
  if (typeof p.api?.parse !== 'function')
    throw new Error('csv-parse no longer exposes Parser#api.parse: pin csv-parse ^7 in package.json');
  return p.api;
}

function csvError(path: string, e: Error): TinyforgeError {
  const line = e instanceof CsvError ? (e as CsvError & { lines?: number }).lines : undefined;
  const what = e.message.replace(/^Invalid Record Length: |^Quote Not Closed: /, '');
  return new TinyforgeError(
    `${path}${line ? `:${line}` : ''}: not valid CSV: ${what}`,
    'input',
    'check the quoting and the delimiter (the description\'s "delimiter")',
  );
}

/**
 * Calls `onRecord(fields, line)` for every non-empty record of the file, in order; `line` is the
 * 1-based line on which the record ends. Errors thrown by `onRecord` propagate unchanged.
 */
export function readCsvRecords(
  path: string,
  delimiter: string,
  onRecord: (fields: string[], line: number) => void,
): void {
  const parser = recordParser(delimiter);
  const push: Push = (record) => onRecord(record, parser.info.lines);
  const close = () => undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TinyforgeError(`cannot read ${path}: ${(e as Error).message}`, 'input');
  }
  try {
    for (;;) {
      // A fresh buffer per chunk: the parser keeps a view of the unfinished tail of the last one.
      const chunk = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      const err = parser.parse(n === 0 ? undefined : chunk.subarray(0, n), n === 0, push, close);
      if (err) throw csvError(path, err);
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}
