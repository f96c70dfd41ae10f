// Recordings described by a dataset description file (docs/data.md) -> a HarDataset and its report.
// Files are read one after the other, synchronously, in bounded memory (one CSV chunk, one window
// per file being read); only the windows kept are held. The result is cached like UCI HAR's.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinyforgeError } from '../../util/errors.js';
import { cacheDir, contentKey, readDatasetCacheEntry, writeDatasetCache } from '../cache.js';
import type { HarDataset } from '../dataset.js';
import { reportFromDataset, type DataReport } from '../report.js';
import { Collector, type WindowSink } from './collector.js';
import { readCsvSource } from './csvSource.js';
import { readDescription, type Description } from './description.js';
import { readArraySource } from './npySource.js';
import { expandSources, type SourceFile } from './sources.js';
import {
  assignUnits,
  buildSplits,
  checkClasses,
  SPLITS,
  splitReport,
  type BuiltSplits,
  type SplitName,
} from './splits.js';
import { WHY } from './tally.js';
import { median } from './timeline.js';

export { readDescription, parseDescription, DESCRIPTION_FORMAT, type Description } from './description.js';
export { RecordingCsvWriter, writeRecordingCsv } from './writeCsv.js';
export { writeNpy, writeNpz, readNpy } from './npy.js';
export type { WindowSink, Group } from './collector.js';

export const RECORDINGS_KIND = 'recordings';
/** Files whose timestamps give a rate this far from the others' median need time.resample. */
const RATE_SPREAD = 0.1;

export interface RecordingsResult {
  dataset: HarDataset;
  report: DataReport;
}

function readSource(c: Collector, f: SourceFile): void {
  if (f.format === 'csv' || f.format === 'tsv') readCsvSource(c, f);
  else readArraySource(c, f);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function merged(tables: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tables) for (const [k, v] of Object.entries(t)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The windows' rate: the target or given rate, else the files' (which must then agree). */
function datasetRate(c: Collector): number | undefined {
  const t = c.d.time;
  if (t.resample ?? t.rate) return t.resample ?? t.rate;
  const found = c.tallies.filter((f) => f.rateFrom === 'timestamps' && f.rateHz);
  if (!found.length) return undefined;
  const rate = median(found.map((f) => f.rateHz!));
  const off = found.find((f) => Math.abs(f.rateHz! / rate - 1) > RATE_SPREAD);
  if (off)
    throw new TinyforgeError(
      `${off.file.path}: its timestamps give ${off.rateHz!.toPrecision(4)} Hz, the other files about ${rate.toPrecision(4)} Hz`,
      'input',
      'set time.resample in the description to bring every file to one rate',
    );
  return rate;
}

function noWindowError(c: Collector, files: SourceFile[]): TinyforgeError {
  const dropped = merged(c.tallies.map((t) => t.droppedWindows));
  const rows = merged(c.tallies.map((t) => t.droppedRows));
  const why = Object.entries({ ...dropped, ...rows }).map(([k, v]) => `${k}: ${v}`);
  return new TinyforgeError(
    `${c.d.path}: no window was made from ${files.length} file${files.length === 1 ? '' : 's'}${why.length ? ` (${why.join('; ')})` : ''}`,
    'input',
    "check windows.length against the recordings' length, and the labels (tinyforge data inspect)",
  );
}

function repairs(c: Collector, dropped: Record<string, number>): DataReport['repairs'] {
  const out: DataReport['repairs'] = {};
  if (c.d.repair.nan !== 'error')
    out.nan = { rows: sum(c.tallies.map((t) => t.nanRows)), windows: dropped[WHY.nan] ?? 0 };
  if (c.d.repair.unknownLabel !== 'error')
    out.unknownLabel = {
      rows: sum(c.tallies.map((t) => t.unknownRows)),
      windows: dropped[WHY.unknownLabel] ?? 0,
    };
  return out;
}

function notes(d: Description, rateHz: number | undefined): string[] {
  const out: string[] = [];
  if (d.split.val === undefined)
    out.push('no split.val: validation windows are taken from train by whole subjects at training time');
  if (rateHz !== undefined && (rateHz < 1 || rateHz > 100_000))
    out.push(`a sample rate of ${rateHz.toPrecision(4)} Hz is unusual: check time.unit and time.rate`);
  return out;
}

function buildReport(
  c: Collector,
  ds: HarDataset,
  built: BuiltSplits,
  assign: (SplitName | undefined)[],
): DataReport {
  const files = c.tallies.map((t) => t.report());
  const base = reportFromDataset(ds, files, notes(c.d, ds.rateHz));
  const dropped = merged(files.map((f) => f.droppedWindows));
  if (built.unassigned) dropped[WHY.notInSplit] = built.unassigned;
  const units = c.store!.unitNames.names;
  for (const s of SPLITS) {
    const set = ds[s];
    if (set)
      base.splits[s] = splitReport(
        c.d,
        set,
        ds.classNames,
        built.subjectNames,
        units.filter((_, i) => assign[i] === s),
      );
  }
  const gapSeconds = sum(files.map((f) => f.gapSeconds ?? 0));
  return {
    ...base,
    splitBy: c.d.split.by,
    windows: {
      kept: base.windows.kept,
      produced: sum(files.map((f) => f.windows + sum(Object.values(f.droppedWindows)))),
      dropped,
    },
    rows: { read: base.rows.read, dropped: merged(files.map((f) => f.droppedRows)) },
    gaps: { count: sum(files.map((f) => f.gaps ?? 0)), seconds: gapSeconds, first: c.gaps },
    repairs: repairs(c, dropped),
  };
}

/** Reads and splits the files of a description (no cache). */
export function parseRecordings(d: Description, files = expandSources(d)): RecordingsResult {
  const c = new Collector(d);
  try {
    return collected(c, files);
  } finally {
    c.store?.dispose();
  }
}

/** The data set and report from the files, read into `c`. */
function collected(c: Collector, files: SourceFile[]): RecordingsResult {
  const d = c.d;
  for (const f of files) readSource(c, f);
  const store = c.store;
  if (!store || store.n === 0) throw noWindowError(c, files);
  const { classNames, remap } = c.labels.finish();
  const rateHz = datasetRate(c);
  const perUnit = new Array<number>(store.unitNames.names.length).fill(0);
  for (let i = 0; i < store.n; i++) perUnit[store.units.get(i)]++;
  const assign = assignUnits(d, store.unitNames.names, perUnit);
  const built = buildSplits(store, assign, remap);
  checkClasses(d, built, classNames);
  const ds: HarDataset = {
    kind: RECORDINGS_KIND,
    spec: d.path,
    source: `recordings described by ${d.path} (${files.length} file${files.length === 1 ? '' : 's'})`,
    classNames,
    channelNames: [...c.map!.names],
    train: built.sets.train!,
    ...(built.sets.val ? { val: built.sets.val } : {}),
    test: built.sets.test!,
    ...(rateHz !== undefined ? { rateHz } : {}),
    channelUnits: [...c.map!.units],
    subjectNames: built.subjectNames,
  };
  return { dataset: ds, report: buildReport(c, ds, built, assign) };
}

let codeHash: string | undefined;

/** Hash of this module's own source files: a change in how recordings are read invalidates the cache. */
function recordingsCodeVersion(): string {
  if (codeHash) return codeHash;
  const dir = dirname(fileURLToPath(import.meta.url));
  const h = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((n) => /\.(ts|js)$/.test(n))
    .sort())
    h.update(`${f}\0`).update(readFileSync(join(dir, f)));
  codeHash = h.digest('hex').slice(0, 16);
  return codeHash;
}

/**
 * Cache key: the description's content and folder, this module's code, and each file's name
 * (relative to the description) and content: copied or touched recordings hit the cache, any changed
 * byte misses it.
 */
export function recordingsCacheKey(d: Description, files: SourceFile[]): string {
  const paths = files.flatMap((f) => [
    f.path,
    ...(f.npy ? [f.npy.y, ...(f.npy.subject ? [f.npy.subject] : [])] : []),
  ]);
  const names = paths.map((p) => relative(dirname(d.path), p)).join('\n');
  return contentKey(
    RECORDINGS_KIND,
    paths,
    `${recordingsCodeVersion()}\n${d.path}\n${JSON.stringify(d.json)}\n${names}`,
  );
}

/** Recordings from a description file, parsed once and then read from the binary cache. */
export function loadRecordings(path: string, opts: { cache?: boolean } = {}): RecordingsResult {
  const d = readDescription(path);
  const files = expandSources(d);
  if (opts.cache === false) return parseRecordings(d, files);
  const cachePath = join(cacheDir(), `recordings-${recordingsCacheKey(d, files)}.bin`);
  const hit = readDatasetCacheEntry(cachePath);
  if (hit && hit.extra && typeof hit.extra === 'object')
    return { dataset: hit.dataset, report: hit.extra as DataReport };
  const result = parseRecordings(d, files);
  try {
    writeDatasetCache(cachePath, result.dataset, result.report);
  } catch (e) {
    // A read-only checkout still works, only slower.
    process.stderr.write(
      `tinyforge: warning: cannot write data cache ${cachePath}: ${(e as Error).message}\n`,
    );
  }
  return result;
}

export interface ScanSummary {
  files: number;
  rows: number;
  windows: number;
  steps: number;
  channels: string[];
}

/**
 * Reads every file of a description and hands each window kept to `sink` without storing it (no
 * splits, no cache): for throughput benchmarks, whose memory must not grow with the data.
 */
export function scanRecordings(path: string, sink: WindowSink): ScanSummary {
  const d = readDescription(path);
  const files = expandSources(d);
  const c = new Collector(d, sink);
  for (const f of files) readSource(c, f);
  return {
    files: files.length,
    rows: sum(c.tallies.map((t) => t.rows)),
    windows: sum(c.tallies.map((t) => t.windows)),
    steps: c.store?.steps ?? 0,
    channels: [...(c.map?.names ?? [])],
  };
}
