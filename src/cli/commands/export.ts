// `tinyforge export <model> --format plain|make|cmake|arduino|zephyr --out dir/`: the generated C as a
// library folder for the user's own firmware build, with build files, a README and (make, cmake,
// --example N) a program that runs the model on N embedded windows on QEMU.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import { checkPrefix, DEFAULT_PREFIX, type GenerateOptions } from '../../codegen/index.js';
import { exportLibrary, type ExportReport } from '../../export/export.js';
import { EXAMPLE_FORMATS, EXPORT_FORMATS, type ExportFormat } from '../../export/view.js';
import { DEFAULT_BOARD } from '../../measure/index.js';
import { quantizeWindows } from '../../measure/windows.js';
import type { CompressedModel } from '../../qmodel/model.js';
import type { CompressReport } from '../../compress/compress.js';
import { readTfm } from '../../qmodel/index.js';
import { TinyforgeError } from '../../util/errors.js';
import { formatTable } from '../../util/table.js';
import { dataOptionText, describeData } from '../data.js';
import { printJson } from '../output.js';
import { RAM_OPTION, ramFrom } from '../ramOption.js';
import { takeWindows, pickSplit } from './build.js';
import { COMPRESS_OPTIONS, compressModelDir, formatCompressReport, type CompressArgs } from './compress.js';

interface ExportArgs extends CompressArgs {
  model: string;
  format: ExportFormat;
  out: string;
  name?: string;
  board: string;
  example?: number;
  data?: string;
  prefix: string;
  ram: string;
  json: boolean;
}

const n = (v: number): string => v.toLocaleString('en-US');

/** A .tfm is compiled as it is; anything else is a model to compress first (as deploy does). */
function isTfm(path: string): boolean {
  return path.endsWith('.tfm') && !(existsSync(path) && statSync(path).isDirectory());
}

/** Compression flags given with a .tfm would be silently ignored: refuse them. */
function rejectCompressFlags(a: ExportArgs): void {
  const given = Object.entries(COMPRESS_OPTIONS)
    .filter(([k, o]) => (a as unknown as Record<string, unknown>)[k] !== o.default)
    .map(([k]) => `--${k}`);
  if (given.length)
    throw new TinyforgeError(
      `${a.model} is already compressed: ${given.join(', ')} apply to a model directory or file only`,
      'usage',
      'Export the .tfm without them, or export the model directory with them.',
    );
}

/** The compressed model and, with --example, its first N test windows quantized. */
async function modelAndWindows(a: ExportArgs, log: (s: string) => void) {
  let model: CompressedModel;
  let test;
  let compress: CompressReport | undefined;
  if (isTfm(a.model)) {
    rejectCompressFlags(a);
    if (a.data !== undefined && a.example === undefined)
      throw new TinyforgeError('--data is only used with --example N for a .tfm', 'usage');
    model = await readTfm(a.model);
    if (a.example !== undefined) {
      const picked = pickSplit(a.data, 'test', model, a.model);
      log(`export: example windows from ${describeData(picked.data)}`);
      test = picked.set;
    }
  } else {
    const c = await compressModelDir(a, log, 'export');
    log(formatCompressReport(c.report));
    model = c.model;
    test = c.chosen.dataset.test;
    compress = c.report;
  }
  if (a.example === undefined || !test) return { model, compress, example: undefined };
  const set = takeWindows(test, a.example, '--example');
  return { model, compress, example: { inputs: quantizeWindows(model, set.x, set.n), labels: set.y } };
}

/** Options of the C generator, as compile takes them. */
function generateOptionsFrom(a: ExportArgs): GenerateOptions {
  checkPrefix(a.prefix);
  return { prefix: a.prefix, ram: ramFrom(a.ram) };
}

function printReport(r: ExportReport, model: string): void {
  const rows = r.files.map((f) => [f.path, n(f.bytes)]);
  process.stdout.write(
    [
      `${model} -> ${r.out} (${r.format} library ${r.name})`,
      formatTable(['file', 'bytes'], rows),
      `RAM   arena ${n(r.arenaBytes)} B (liveness optimum ${n(r.livenessBytes)} B), plus the inference stack`,
      `flash weights ${n(r.weightBytes)} B, tables ${n(r.tableBytes)} B, plus the kernels' code`,
      ...(r.example
        ? [
            `example: ${r.example.windows} windows on ${r.example.board}${r.example.machine ? ` (QEMU ${r.example.machine})` : ''}, see README.md`,
          ]
        : []),
      '',
    ].join('\n'),
  );
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export <model>',
  describe: 'Export the generated C as a library folder (plain, make, cmake, arduino, zephyr)',
  builder: (y) =>
    y
      .positional('model', {
        type: 'string',
        demandOption: true,
        describe: 'compressed model (.tfm), or a model directory or file to compress first (as deploy)',
      })
      .option('format', { choices: EXPORT_FORMATS, demandOption: true, describe: 'library layout' })
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'library folder (replaced whole; refused if it holds anything but an earlier export)',
      })
      .option('name', {
        type: 'string',
        describe: 'library name, a C identifier (default: <prefix>model, tf_model)',
      })
      .option('board', {
        type: 'string',
        default: DEFAULT_BOARD,
        describe: 'core of the build files (-mcpu ...) and board of the example (src/boards/<name>.json)',
      })
      .option('example', {
        type: 'number',
        describe: `${EXAMPLE_FORMATS.join(', ')}: add example/, a program that runs the model on the first N test windows on QEMU`,
      })
      .option('data', {
        type: 'string',
        describe: dataOptionText('compression data and the example windows'),
      })
      .options(COMPRESS_OPTIONS)
      .option('prefix', {
        type: 'string',
        default: DEFAULT_PREFIX,
        describe: 'namespace of every C symbol and macro, as compile --prefix (two models in one firmware)',
      })
      .options(RAM_OPTION)
      .option('json', { type: 'boolean', default: false, describe: 'print the export report as JSON' })
      .example('$0 export out/h4.tfm --format cmake --out lib/har', 'a CMake static library target tf_model')
      .example(
        '$0 export out/h4.tfm --format make --example 8 --out lib/har',
        'with example/: 8 test windows, built with make and run on QEMU',
      ) as never,
  handler: async (a) => {
    const log = a.json ? () => {} : (s: string) => process.stderr.write(s + '\n');
    if (a.example !== undefined && !EXAMPLE_FORMATS.includes(a.format)) {
      throw new TinyforgeError(
        `--example is for the ${EXAMPLE_FORMATS.join(' and ')} formats, not ${a.format}`,
        'usage',
        'The Arduino and Zephyr build systems are not available offline; export --format make or cmake for a runnable example.',
      );
    }
    const generate = generateOptionsFrom(a); // checked before a compression that may take minutes
    const { model, compress, example } = await modelAndWindows(a, log);
    const report = await exportLibrary({
      model,
      format: a.format,
      out: a.out,
      sourceName: basename(a.model),
      name: a.name,
      board: a.board,
      example,
      generate,
    });
    if (a.json) printJson({ model: a.model, ...(compress ? { compress } : {}), ...report });
    else printReport(report, a.model);
  },
};
