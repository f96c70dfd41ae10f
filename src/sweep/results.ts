// Point results -> one row per point, the Pareto front, and results.{json,csv,md}. The files hold
// no time stamps, so a sweep answered from its cache writes the same bytes again.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pct } from '../util/table.js';
import { TinyforgeError } from '../util/errors.js';
import { fileSha256, writeFileAtomic } from '../util/files.js';
import { widthLabel } from './config.js';
import { KB } from './budget.js';
import { paretoFront } from './pareto.js';
import type { PointResult } from './result.js';

export const RESULTS_SCHEMA = 'tinyforge-sweep-results/1';

/**
 * The memory the front, the plot and --budget use: model flash when points were measured on the
 * target, otherwise the host's parameter byte count, which is NOT linked flash (no kernels, no
 * alignment) and says so wherever it appears.
 */
export type MemoryMetric = 'modelFlash' | 'paramBytes';

export const METRIC_TEXT: Record<MemoryMetric, { short: string; long: string }> = {
  modelFlash: {
    short: 'model flash',
    long: 'model flash: weights + decode tables + kernels, from the linker map',
  },
  paramBytes: {
    short: 'parameter bytes (host estimate, NOT linked flash)',
    long:
      'parameter bytes: coded weights + Huffman tables + int32 biases as the compressor counts them ' +
      '(float points: 4 bytes per parameter). A host estimate, NOT linked flash: no kernels, no alignment',
  },
};

/** The published front of the reference paper (UCI HAR), drawn as a dashed line. */
export const PAPER_FRONT = {
  label: 'SYSINT 2022 (paper)',
  points: [
    { kB: 7, error: 0.1 },
    { kB: 17, error: 0.09 },
    { kB: 23, error: 0.082 },
    { kB: 48, error: 0.065 },
    { kB: 83, error: 0.057 },
  ],
};

export interface SweepRow {
  label: string;
  hash: string;
  status: 'ok' | 'failed';
  width: string;
  /** Conv1D filters of the width, e.g. "16-16-16". */
  filters: string;
  bits: number | 'float';
  prune: number;
  structured: boolean;
  perChannel: boolean;
  coding: string;
  /** Coding chosen per layer, e.g. "huffman/rle-huffman/packed/packed". */
  codings?: string;
  finetuneEpochs: number;
  accuracy?: number;
  accuracySource?: 'target' | 'host-reference' | 'float';
  errorRate?: number;
  floatAccuracy?: number;
  hostAccuracy?: number;
  targetAccuracy?: number;
  agreement?: number;
  evalWindows?: number;
  paramBytes?: number;
  codedWeightBytes?: number;
  tableBytes?: number;
  biasBytes?: number;
  modelFlash?: number;
  totalFlash?: number;
  ram?: number;
  instructions?: number;
  /** Bytes of the sweep's memory metric; undefined when the point has none (failed, or a float point on the target). */
  memory?: number;
  pareto: boolean;
  seconds: number;
  failedStage?: string;
  /** TinyforgeError category of the failure ('internal' for a bug). */
  failedCategory?: string;
  failure?: string;
}

export function chooseMetric(results: readonly PointResult[]): MemoryMetric {
  return results.some((r) => r.status === 'ok' && r.target) ? 'modelFlash' : 'paramBytes';
}

export function toRow(r: PointResult, metric: MemoryMetric): SweepRow {
  const p = r.point;
  const h = r.host;
  const t = r.target;
  const ok = r.status === 'ok';
  const accuracy = !ok ? undefined : t ? t.accuracy : h?.accuracy;
  const memory = !ok ? undefined : metric === 'modelFlash' ? t?.modelFlash : h?.paramBytes;
  return {
    label: r.label,
    hash: r.hash,
    status: r.status,
    width: widthLabel(p.width),
    filters: r.widthFilters.join('-'),
    bits: p.bits,
    prune: p.prune,
    structured: p.structured,
    perChannel: p.perChannel,
    coding: p.bits === 'float' ? 'none' : p.coding,
    codings: h?.codings?.join('/'),
    finetuneEpochs: p.finetuneEpochs,
    accuracy,
    accuracySource:
      accuracy === undefined ? undefined : t ? 'target' : p.bits === 'float' ? 'float' : 'host-reference',
    errorRate: accuracy === undefined ? undefined : 1 - accuracy,
    floatAccuracy: h?.floatAccuracy,
    hostAccuracy: h?.accuracy,
    targetAccuracy: t?.accuracy,
    agreement: t?.agreement,
    evalWindows: t?.windows ?? h?.evalWindows,
    paramBytes: h?.paramBytes,
    codedWeightBytes: h?.codedWeightBytes,
    tableBytes: h?.tableBytes,
    biasBytes: h?.biasBytes,
    modelFlash: t?.modelFlash,
    totalFlash: t?.totalFlash,
    ram: t?.ram,
    instructions: t === undefined ? undefined : Math.round(t.instructionsPerInference),
    memory,
    pareto: false,
    seconds: Object.values(r.seconds).reduce((s, v) => s + (v ?? 0), 0),
    failedStage: r.error?.stage,
    failedCategory: r.error?.category,
    failure: r.error ? r.error.message + (r.error.hint ? ` (hint: ${r.error.hint})` : '') : undefined,
  };
}

/** Rows in the order given, with `pareto` set on the front of error against the memory metric. */
export function buildRows(results: readonly PointResult[], metric = chooseMetric(results)): SweepRow[] {
  const rows = results.map((r) => toRow(r, metric));
  const candidates = rows.filter((r) => r.memory !== undefined && r.errorRate !== undefined);
  for (const i of paretoFront(candidates.map((r) => ({ memory: r.memory!, error: r.errorRate! }))))
    candidates[i].pareto = true;
  return rows;
}

/** Rows by memory (none last), then error, then label. */
export function sortByMemory(rows: readonly SweepRow[]): SweepRow[] {
  return [...rows].sort(
    (a, b) =>
      (a.memory ?? Infinity) - (b.memory ?? Infinity) ||
      (a.errorRate ?? Infinity) - (b.errorRate ?? Infinity) ||
      (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
}

// ------------------------------------------------------------------------------------------ CSV

const CSV_COLUMNS: (keyof SweepRow)[] = [
  'label',
  'hash',
  'status',
  'pareto',
  'width',
  'filters',
  'bits',
  'prune',
  'structured',
  'perChannel',
  'coding',
  'codings',
  'finetuneEpochs',
  'accuracy',
  'accuracySource',
  'errorRate',
  'floatAccuracy',
  'hostAccuracy',
  'targetAccuracy',
  'agreement',
  'evalWindows',
  'memory',
  'paramBytes',
  'codedWeightBytes',
  'tableBytes',
  'biasBytes',
  'modelFlash',
  'totalFlash',
  'ram',
  'instructions',
  'seconds',
  'failedStage',
  'failedCategory',
  'failure',
];

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? String(Number(v.toPrecision(10))) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly SweepRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

/** Parses what toCsv writes (RFC 4180 quoting), for tests and tools. */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let rec: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      rec.push(field);
      field = '';
    } else if (c === '\n') {
      rec.push(field);
      records.push(rec);
      rec = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || rec.length) {
    rec.push(field);
    records.push(rec);
  }
  const [header, ...body] = records;
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

// ------------------------------------------------------------------------------------- Markdown

const kB = (b: number | undefined) => (b === undefined ? '-' : (b / KB).toFixed(2));
const maybePct = (v: number | undefined) => (v === undefined ? '-' : pct(v));

export interface ResultsMeta {
  name?: string;
  data: string;
  code: string;
  metric: MemoryMetric;
  /** Plot files, relative to the results folder. */
  plots: string[];
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function toMarkdown(rows: readonly SweepRow[], meta: ResultsMeta): string {
  const measured = rows.some((r) => r.modelFlash !== undefined);
  const ok = rows.filter((r) => r.status === 'ok');
  const failed = rows.filter((r) => r.status === 'failed');
  const out: string[] = [];
  out.push(`# Sweep${meta.name ? ` ${meta.name}` : ''}`, '');
  out.push(`- data: \`${meta.data}\``);
  out.push(`- code: ${meta.code}`);
  out.push(
    `- points: ${rows.length} (${ok.length} ok, ${failed.length} failed), ${rows.filter((r) => r.pareto).length} on the Pareto front`,
  );
  out.push(`- memory: ${METRIC_TEXT[meta.metric].long}; 1 kB = ${KB} B`);
  out.push(
    `- accuracy: ${measured ? 'on the target' : 'host reference interpreter (bit-exact fixed-point model); float points: float model'}, test split`,
  );
  out.push('');
  const header = [
    'front',
    'point',
    'bits',
    'width',
    'prune',
    'codings',
    'accuracy',
    'error',
    `${measured ? 'model flash' : 'param'} kB`,
  ];
  if (measured) header.push('total flash kB', 'RAM kB', 'instr/inference', 'agreement');
  header.push('time s');
  out.push(`| ${header.join(' | ')} |`);
  out.push(`|${header.map((_, i) => (i <= 1 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const r of sortByMemory(rows)) {
    if (r.status !== 'ok') continue;
    const cells = [
      r.pareto ? '**yes**' : '',
      `\`${r.label}\``,
      String(r.bits),
      r.filters,
      r.bits === 'float' ? '-' : `${r.prune.toFixed(2)}${r.structured ? ' (filters)' : ''}`,
      r.codings ?? '-',
      maybePct(r.accuracy),
      maybePct(r.errorRate),
      kB(r.memory),
    ];
    if (measured)
      cells.push(
        kB(r.totalFlash),
        kB(r.ram),
        r.instructions === undefined ? '-' : String(r.instructions),
        maybePct(r.agreement),
      );
    cells.push(r.seconds.toFixed(1));
    out.push(`| ${cells.map(mdCell).join(' | ')} |`);
  }
  if (failed.length) {
    out.push('', '## Failed points', '', '| point | stage | error |', '| --- | --- | --- |');
    for (const r of failed)
      out.push(`| \`${r.label}\` | ${r.failedStage ?? '-'} | ${mdCell(r.failure ?? '')} |`);
  }
  if (meta.plots.length) {
    out.push('', '## Plots', '');
    for (const p of meta.plots) out.push(`![${p}](${p})`, '');
  } else out.push('');
  return out.join('\n').replace(/\n*$/, '\n');
}

export interface ResultsFile {
  schema: typeof RESULTS_SCHEMA;
  name?: string;
  data: string;
  code: string;
  metric: MemoryMetric;
  metricDescription: string;
  bytesPerKB: number;
  counts: { points: number; ok: number; failed: number; front: number };
  /** Labels of the front points, by memory. */
  front: string[];
  points: SweepRow[];
  /** SHA-256 of every other file of the set (results.csv, results.md, plots), by name. */
  files?: Record<string, string>;
}

export function toResultsFile(rows: SweepRow[], meta: Omit<ResultsMeta, 'plots'>): ResultsFile {
  return {
    schema: RESULTS_SCHEMA,
    name: meta.name,
    data: meta.data,
    code: meta.code,
    metric: meta.metric,
    metricDescription: METRIC_TEXT[meta.metric].long,
    bytesPerKB: KB,
    counts: {
      points: rows.length,
      ok: rows.filter((r) => r.status === 'ok').length,
      failed: rows.filter((r) => r.status === 'failed').length,
      front: rows.filter((r) => r.pareto).length,
    },
    front: sortByMemory(rows.filter((r) => r.pareto)).map((r) => r.label),
    points: rows,
  };
}

export const RESULTS_JSON = 'results.json';

/**
 * The result files of a sweep are one set (results.json, .csv, .md and the plots): results.json is
 * its manifest, removed before any file of a new set is written and written last, with the SHA-256
 * of every other file. Killed in between, the folder has no manifest (readers refuse it as no
 * results) or a manifest whose files are all there (checkResultFiles).
 */
export function startResults(out: string): void {
  rmSync(join(out, RESULTS_JSON), { force: true });
}

/**
 * Writes results.csv and results.md (each atomically), then results.json with the hashes of those
 * and of `written` (the plots, relative to `out`); returns the paths. startResults comes first.
 */
export function writeResults(
  out: string,
  rows: SweepRow[],
  meta: ResultsMeta,
  written: string[] = [],
): string[] {
  const files = {
    json: join(out, RESULTS_JSON),
    csv: join(out, 'results.csv'),
    md: join(out, 'results.md'),
  };
  writeFileAtomic(files.csv, toCsv(rows));
  writeFileAtomic(files.md, toMarkdown(rows, meta));
  const hashes: Record<string, string> = {};
  for (const f of ['results.csv', 'results.md', ...written]) hashes[f] = fileSha256(join(out, f));
  writeFileAtomic(
    files.json,
    JSON.stringify({ ...toResultsFile(rows, meta), files: hashes }, null, 2) + '\n',
  );
  return Object.values(files);
}

/**
 * The files of a results.json's set that are missing or changed (a sweep killed while writing its
 * results leaves no results.json, so this is for a set edited or partly copied since).
 */
export function checkResultFiles(out: string, file: { files?: Record<string, string> }): string[] {
  return Object.entries(file.files ?? {})
    .filter(([f, hash]) => !existsSync(join(out, f)) || fileSha256(join(out, f)) !== hash)
    .map(([f]) => f);
}

/** A sweep folder's results.json, its set of files checked (an 'input' error otherwise). */
export function readResultsFile(out: string): ResultsFile {
  const path = join(out, RESULTS_JSON);
  let file: ResultsFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  } catch (e) {
    throw new TinyforgeError(
      `cannot read ${path}: ${(e as Error).message}`,
      'input',
      'run the sweep first (give --data)',
    );
  }
  // The set is whole or refused: a file changed since results.json was written is not shown as its.
  const changed = checkResultFiles(out, file);
  if (changed.length)
    throw new TinyforgeError(
      `${path}: ${changed.join(', ')} missing or changed since the results were written`,
      'input',
      'run the sweep again (give --data): finished points come from the cache',
    );
  return file;
}
