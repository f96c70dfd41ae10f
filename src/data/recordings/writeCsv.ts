// A small synchronous recording writer for tests, examples and generators: rows are buffered and
// written in 1 MiB pieces, so writing a gigabyte of CSV holds one piece in memory, not the file.
// The file appears under its name only when closed (temporary file + rename).
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const FLUSH_CHARS = 1 << 20;

export type CsvField = string | number;

/** A field as CSV text: quoted when it holds the delimiter, a quote or a line break. */
export function csvField(v: CsvField, delimiter: string): string {
  const s = typeof v === 'number' ? String(v) : v;
  return s.includes(delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export class RecordingCsvWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private buffer = '';
  /** Bytes written so far (after flushing). */
  bytes = 0;

  constructor(
    private readonly path: string,
    header: string[],
    private readonly delimiter = ',',
  ) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = openSync(this.tmp, 'w');
    this.row(header);
  }

  row(fields: CsvField[]): void {
    this.buffer += fields.map((f) => csvField(f, this.delimiter)).join(this.delimiter) + '\n';
    if (this.buffer.length >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    const b = Buffer.from(this.buffer, 'utf8');
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
    this.buffer = '';
  }

  /** Writes what is left and gives the file its name. */
  close(): void {
    try {
      this.flush();
      closeSync(this.fd);
      renameSync(this.tmp, this.path);
    } catch (e) {
      rmSync(this.tmp, { force: true });
      throw e;
    }
  }
}

/** Writes a whole recording: a header, then the rows. */
export function writeRecordingCsv(
  path: string,
  header: string[],
  rows: Iterable<CsvField[]>,
  delimiter = ',',
): void {
  const w = new RecordingCsvWriter(path, header, delimiter);
  for (const r of rows) w.row(r);
  w.close();
}
