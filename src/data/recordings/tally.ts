// Counters kept while one file is read, turned into its FileReport at the end.
import type { FileReport, GapReport } from '../report.js';
import type { SourceFile } from './sources.js';

/** Why a window or rows were dropped: the keys of the report's `dropped` tables. */
export const WHY = {
  labelChange: 'label change inside the window',
  nan: 'NaN, Inf or empty value',
  unknownLabel: 'unknown label',
  droppedClass: 'class dropped by the description',
  notInSplit: 'unit in no split',
  shortSegment: 'segment shorter than a window',
} as const;

/** The first gaps of all files, for the report (the count and total are kept per file). */
export const MAX_GAPS_LISTED = 50;

export class FileTally {
  rows = 0;
  windows = 0;
  segments = 0;
  gaps = 0;
  gapSeconds = 0;
  rateHz?: number;
  rateFrom?: 'timestamps' | 'given';
  durationS?: number;
  /** Rows with a missing value (repair nan: drop-window) and with an unknown label (repair unknownLabel: drop). */
  nanRows = 0;
  unknownRows = 0;
  readonly droppedWindows: Record<string, number> = {};
  readonly droppedRows: Record<string, number> = {};

  constructor(
    readonly file: SourceFile,
    private readonly gapList: GapReport[],
  ) {}

  dropWindow(why: string): void {
    this.droppedWindows[why] = (this.droppedWindows[why] ?? 0) + 1;
  }

  dropRows(why: string, n: number): void {
    if (n > 0) this.droppedRows[why] = (this.droppedRows[why] ?? 0) + n;
  }

  gap(line: number, atS: number, seconds: number): void {
    this.gaps++;
    this.gapSeconds += seconds;
    if (this.gapList.length < MAX_GAPS_LISTED) this.gapList.push({ file: this.file.rel, line, atS, seconds });
  }

  report(): FileReport {
    const f = this.file;
    const timed = f.format === 'csv' || f.format === 'tsv';
    const r: FileReport = {
      path: f.rel,
      format: f.format,
      rows: this.rows,
      subject: f.subject,
      session: f.session,
      rateHz: this.rateHz,
      rateFrom: this.rateFrom,
      durationS: this.durationS,
      segments: timed ? this.segments : undefined,
      gaps: timed ? this.gaps : undefined,
      gapSeconds: timed ? this.gapSeconds : undefined,
      windows: this.windows,
      droppedWindows: { ...this.droppedWindows },
      droppedRows: { ...this.droppedRows },
    };
    // No undefined fields: a report read back from the cache (JSON) must equal a fresh one.
    return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as FileReport;
  }
}
