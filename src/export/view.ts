// What the export templates see: the library's name and C prefix, its files, the figures known at
// generation time (from the codegen report) and, for the example, the board's compiler flags.
import { basename } from 'node:path';
import type { Board } from '../boards/boards.js';
import type { GeneratedC, GeneratedFile } from '../codegen/index.js';
import { boardDefines, machineFlags } from '../crossbuild/runtime.js';
import type { CompressedModel } from '../qmodel/model.js';
import { TinyforgeError } from '../util/errors.js';

export const EXPORT_FORMATS = ['plain', 'make', 'cmake', 'arduino', 'zephyr'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats that can carry the QEMU example program (they have a build system to build it with). */
export const EXAMPLE_FORMATS: readonly ExportFormat[] = ['make', 'cmake'];

/** The generated header every caller includes: `<prefix>model.h` (`model.h` for the default prefix). */
const HEADER = /^(.*)model\.h$/;

export interface ExampleView {
  windows: number;
  board: string;
  /** `qemu-system-arm -M <machine>`, or null for a board QEMU cannot run. */
  machine: string | null;
  linkerScript: string;
  /** -D flags of the firmware runtime, as one shell-quoted Makefile value and as CMake items. */
  makeDefines: string;
  cmakeDefines: string[];
}

export interface ExportView {
  format: ExportFormat;
  /** The library (CMake target, Arduino library, Zephyr module, lib<name>.a): a C identifier. */
  name: string;
  /** Upper case, for Make variables and the Kconfig symbol. */
  NAME: string;
  /** The C API's prefix ('tf_'), and its macros' ('TF_'). */
  prefix: string;
  PREFIX: string;
  /** Folder of the C files inside the library folder, '' for the top level. */
  srcDir: string;
  sources: string[];
  headers: string[];
  /** The header callers include. */
  header: string;
  /** An extra header named after the library (Arduino's `#include <name.h>`), or null. */
  libraryHeader: string | null;
  sourceName: string;
  inputT: number;
  inputC: number;
  inputSize: number;
  numClasses: number;
  classNames: string[];
  arenaBytes: number;
  scratchBytes: number;
  livenessBytes: number;
  weightBytes: number;
  tableBytes: number;
  dataBytes: number;
  layers: number;
  tflite: boolean;
  /** Calls the header declares beyond run/argmax/predict (the API grows; the README follows it). */
  hasRunIn: boolean;
  hasQuantize: boolean;
  /** Section names as the header states them: `.bss.tf_arena`, `.rodata.tf_weights` (+ .<layer>) ... */
  sections: { arena: string; weights: string; tables: string; kernels: string };
  /** The board's -mcpu/-mthumb/-mfloat-abi/-mfpu, for the build files' defaults. */
  cpu: string;
  cpuFlags: string;
  example: ExampleView | null;
}

/** The API prefix of generated files: the part of `<prefix>model.h` before `model.h`, 'tf_' if empty. */
export function apiPrefix(files: GeneratedFile[]): string {
  for (const f of files) {
    const m = HEADER.exec(f.name);
    if (m) return m[1] === '' ? 'tf_' : m[1];
  }
  throw new Error('generated files without a model header');
}

/** The library name: --name, else `<prefix>model` (tf_model), so two models' libraries differ. */
export function libraryName(given: string | undefined, prefix: string): string {
  const name = given ?? `${prefix}model`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name.length > 63) {
    throw new TinyforgeError(
      `library name '${name}' is not a C identifier`,
      'usage',
      'Use letters, digits and _ (not first), at most 63 characters: it names a CMake target, an Arduino library and a Kconfig symbol.',
    );
  }
  return name;
}

/** A -D value for a POSIX shell inside a Makefile: TF_BOARD="x" -> -DTF_BOARD='"x"'. */
function makeDefine(name: string, value: string): string {
  return /^[A-Za-z0-9_.+-]+$/.test(value) ? `-D${name}=${value}` : `-D${name}='${value}'`;
}

/** A CMake list item for target_compile_definitions (quotes escaped for CMake). */
function cmakeDefine(name: string, value: string): string {
  return `"${name}=${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function exampleView(board: Board, windows: number): ExampleView {
  const defines = Object.entries(boardDefines(board));
  return {
    windows,
    board: board.name,
    machine: board.qemu?.machine ?? null,
    linkerScript: `${board.name}.ld`,
    makeDefines: defines.map(([k, v]) => makeDefine(k, v)).join(' '),
    cmakeDefines: defines.map(([k, v]) => cmakeDefine(k, v)),
  };
}

export interface ViewInput {
  format: ExportFormat;
  name?: string;
  model: CompressedModel;
  generated: GeneratedC;
  sourceName: string;
  board: Board;
  example: ExampleView | null;
}

/** A section name the header mentions (first match), else the default one. */
function sectionIn(header: string, pattern: RegExp, fallback: string): string {
  return pattern.exec(header)?.[0] ?? fallback;
}

function sectionsOf(header: string): ExportView['sections'] {
  return {
    arena: sectionIn(header, /\.bss\.\w*arena\b/, '.bss.tf_arena'),
    weights: sectionIn(header, /\.rodata\.\w*weights\b/, '.rodata.tf_weights'),
    tables: sectionIn(header, /\.rodata\.\w*tables\b/, '.rodata.tf_tables'),
    kernels: sectionIn(header, /\.text\.\w*kernels\b/, '.text.tf_kernels'),
  };
}

/** Whether the header declares `int <prefix><fn>(`. */
function declares(header: string, prefix: string, fn: string): boolean {
  return new RegExp(`\\bint\\s+${prefix}${fn}\\s*\\(`).test(header);
}

export function buildExportView(i: ViewInput): ExportView {
  const files = i.generated.files;
  const prefix = apiPrefix(files);
  const name = libraryName(i.name, prefix);
  const headerFile = files.find((f) => HEADER.test(f.name))!;
  const header = headerFile.name;
  const r = i.generated.report;
  const srcDir = i.format === 'arduino' || i.format === 'zephyr' ? 'src' : '';
  const headers = files.filter((f) => f.name.endsWith('.h')).map((f) => f.name);
  const cpuFlags = machineFlags(i.board).join(' ');
  return {
    format: i.format,
    name,
    NAME: name.toUpperCase(),
    prefix,
    PREFIX: prefix.toUpperCase(),
    srcDir,
    sources: files.filter((f) => f.name.endsWith('.c')).map((f) => f.name),
    headers,
    header,
    libraryHeader: i.format === 'arduino' && !headers.includes(`${name}.h`) ? `${name}.h` : null,
    sourceName: basename(i.sourceName),
    inputT: i.model.inputShape[0],
    inputC: i.model.inputShape[1],
    inputSize: i.model.inputShape[0] * i.model.inputShape[1],
    numClasses: i.model.classNames.length,
    classNames: [...i.model.classNames],
    arenaBytes: r.arenaBytes,
    scratchBytes: r.scratchBytes,
    livenessBytes: r.livenessBytes,
    weightBytes: r.weightBytes,
    tableBytes: r.tableBytes,
    dataBytes: r.weightBytes + r.tableBytes,
    layers: r.layers.length,
    tflite: files.some((f) => f.name.includes('tflite')),
    hasRunIn: declares(headerFile.content, prefix, 'model_run_in'),
    hasQuantize: declares(headerFile.content, prefix, 'quantize_input'),
    sections: sectionsOf(headerFile.content),
    cpu: i.board.cpu,
    cpuFlags,
    example: i.example,
  };
}
