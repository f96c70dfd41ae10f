// The files of an exported library folder, per format: the generated C (placed where the format
// wants its sources) plus the format's build files and README from templates/export/, and for
// make and cmake the optional example program with the firmware runtime it runs on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Board } from '../boards/boards.js';
import type { GeneratedFile } from '../codegen/index.js';
import { FIRMWARE_INCLUDE_DIR, FIRMWARE_RUNTIME_SOURCES, renderLinkerScript } from '../crossbuild/runtime.js';
import { embedSources } from '../measure/embed.js';
import { renderExport } from './templates.js';
import type { ExportFormat, ExportView } from './view.js';

/** A file of the export, by its path inside the library folder ('/'-separated). */
export interface ExportFile {
  path: string;
  content: string;
}

/** Build files per format: [path in the folder, template under templates/export/]. */
function buildFiles(v: ExportView): [string, string][] {
  const byFormat: Record<ExportFormat, [string, string][]> = {
    plain: [],
    make: [
      ['tinyforge_model.mk', 'make/tinyforge_model.mk'],
      ['Makefile', 'make/Makefile'],
    ],
    cmake: [
      ['CMakeLists.txt', 'cmake/CMakeLists.txt'],
      ['cmake/arm-none-eabi.cmake', 'cmake/arm-none-eabi.cmake'],
    ],
    arduino: [
      ['library.properties', 'arduino/library.properties'],
      [`examples/${v.name}/${v.name}.ino`, 'arduino/example.ino'],
      ...(v.libraryHeader ? ([[`src/${v.libraryHeader}`, 'arduino/library.h']] as [string, string][]) : []),
    ],
    zephyr: [
      ['zephyr/module.yml', 'zephyr/module.yml'],
      ['CMakeLists.txt', 'zephyr/CMakeLists.txt'],
      ['Kconfig', 'zephyr/Kconfig'],
    ],
  };
  return [...byFormat[v.format], ['README.md', 'README.md']];
}

/** The example: main.c, the windows, its build file, the runtime and the board's linker script. */
function exampleFiles(v: ExportView, board: Board, windows: Int8Array, labels: ArrayLike<number>) {
  const files: ExportFile[] = [
    { path: 'example/main.c', content: renderExport('example/main.c', v) },
    v.format === 'make'
      ? { path: 'example/Makefile', content: renderExport('example/Makefile', v) }
      : { path: 'example/CMakeLists.txt', content: renderExport('example/CMakeLists.txt', v) },
    { path: `example/runtime/${board.name}.ld`, content: renderLinkerScript(board) },
    ...embedSources(windows, labels, v.inputT, v.inputC, v.numClasses).map((f) => ({
      path: `example/${f.name}`,
      content: f.content,
    })),
  ];
  // The runtime is copied as it is, so the example builds without tinyforge installed.
  for (const src of [...FIRMWARE_RUNTIME_SOURCES, join(FIRMWARE_INCLUDE_DIR, 'tf_target.h')]) {
    const name = src.split(/[\\/]/).pop()!;
    files.push({ path: `example/runtime/${name}`, content: readFileSync(src, 'utf8') });
  }
  return files;
}

export interface ExampleData {
  board: Board;
  /** windows * T * C quantized inputs, and a label per window. */
  inputs: Int8Array;
  labels: ArrayLike<number>;
}

export function layoutFiles(
  v: ExportView,
  generated: GeneratedFile[],
  example: ExampleData | null,
): ExportFile[] {
  const at = (name: string) => (v.srcDir ? `${v.srcDir}/${name}` : name);
  const files: ExportFile[] = generated.map((f) => ({ path: at(f.name), content: f.content }));
  for (const [path, template] of buildFiles(v)) files.push({ path, content: renderExport(template, v) });
  if (example) files.push(...exampleFiles(v, example.board, example.inputs, example.labels));
  return files;
}
