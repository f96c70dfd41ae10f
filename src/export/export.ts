// exportLibrary: a compressed model as a self-contained library folder for the user's own build
// (plain, make, cmake, arduino, zephyr), written whole or not at all.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveBoard } from '../boards/boards.js';
import { generateC, type GenerateOptions } from '../codegen/index.js';
import type { CompressedModel } from '../qmodel/model.js';
import { TinyforgeError } from '../util/errors.js';
import { replaceDirectory, toJsonText } from '../util/files.js';
import { layoutFiles, type ExportFile } from './layout.js';
import { buildExportView, EXAMPLE_FORMATS, exampleView, type ExportFormat, type ExportView } from './view.js';

/** Written into every export: a folder without it is not replaced (it may be the user's project). */
export const EXPORT_MARKER = 'tinyforge-export.json';

export interface ExportOptions {
  model: CompressedModel;
  format: ExportFormat;
  out: string;
  /** Shown in the files' banners (the model's path). */
  sourceName: string;
  /** The library name (default `<prefix>model`). */
  name?: string;
  /** The board whose core the build files target by default, and the example runs on. */
  board: string;
  /** Quantized windows for the example program (make and cmake), with a label each. */
  example?: { inputs: Int8Array; labels: ArrayLike<number> };
  /** Passed to the C generator as they are (compile's options). */
  generate?: GenerateOptions;
}

export interface ExportReport {
  format: ExportFormat;
  out: string;
  name: string;
  prefix: string;
  files: { path: string; bytes: number }[];
  example: { windows: number; board: string; machine: string | null } | null;
  arenaBytes: number;
  scratchBytes: number;
  livenessBytes: number;
  weightBytes: number;
  tableBytes: number;
}

/** Refuses to replace a folder that holds anything but an earlier export. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory())
    throw new TinyforgeError(`--out ${out} is a file`, 'usage', 'Give a folder for the library.');
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes(EXPORT_MARKER)) {
    throw new TinyforgeError(
      `--out ${out} is not empty and is not a tinyforge export: it would be replaced as a whole`,
      'usage',
      'Export into a new or empty folder (an earlier export there is replaced).',
    );
  }
}

function reportOf(v: ExportView, out: string, files: ExportFile[]): ExportReport {
  return {
    format: v.format,
    out,
    name: v.name,
    prefix: v.prefix,
    files: files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content) })),
    example: v.example
      ? { windows: v.example.windows, board: v.example.board, machine: v.example.machine }
      : null,
    arenaBytes: v.arenaBytes,
    scratchBytes: v.scratchBytes,
    livenessBytes: v.livenessBytes,
    weightBytes: v.weightBytes,
    tableBytes: v.tableBytes,
  };
}

export async function exportLibrary(o: ExportOptions): Promise<ExportReport> {
  if (o.example && !EXAMPLE_FORMATS.includes(o.format)) {
    throw new TinyforgeError(
      `--example is for the make and cmake formats, not ${o.format}`,
      'usage',
      `The ${o.format} format has its own build system (no QEMU there); export --format make or cmake for the example.`,
    );
  }
  const out = resolve(o.out);
  checkOut(out);
  const board = resolveBoard(o.board);
  const generated = generateC(o.model, { ...o.generate, sourceName: o.sourceName });
  const windows = o.example ? o.example.labels.length : 0;
  const view = buildExportView({
    format: o.format,
    name: o.name,
    model: o.model,
    generated,
    sourceName: o.sourceName,
    board,
    example: o.example ? exampleView(board, windows) : null,
  });
  const files = layoutFiles(
    view,
    generated.files,
    o.example ? { board, inputs: o.example.inputs, labels: o.example.labels } : null,
  );
  const report = reportOf(view, out, files);
  files.push({
    path: EXPORT_MARKER,
    content: toJsonText({ source: o.sourceName, ...report, out: undefined }),
  });
  mkdirSync(dirname(out), { recursive: true });
  await replaceDirectory(out, (tmp) => {
    for (const f of files) {
      const path = join(tmp, ...f.path.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content);
    }
  });
  return report;
}
