// buildModelFirmware: a compressed model -> generated C + the measurement harness
// (firmware/harness) -> firmware ELF/HEX/BIN/map for a board, with its size report.
//
// The build folder, when complete:
//   model.tfm                the model the firmware was built from (run/measure read it back)
//   src/                     generated sources (model.c, model.h, tf_fixedpoint.h, tf_windows.*)
//   firmware.elf .hex .bin .map .ld
//   size.json, size.txt      the size report (tinyforge.size/1) and its table
//   embedded-windows.bin     embed mode: the windows in flash, as a windows file (for the host check)
//   build.json               board, flags, model identity; written last: a folder without it is no build
// Everything is made in a temporary folder inside outDir and moved into place only on success; a
// failed build leaves the previous contents (and, for an image that does not fit, firmware.failed.map).
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { resolveBoard, type Board } from '../boards/boards.js';
import {
  DEFAULT_PREFIX,
  fastKeptWarning,
  FILE_NAMES,
  generateC,
  prefixedFileName,
  writeSources,
  type CodegenReport,
  type RamOption,
} from '../codegen/index.js';
import { harnessAdapters, hooksHeaderName } from './prefixAdapter.js';
import type { CompressedModel } from '../qmodel/model.js';
import {
  buildFirmware,
  CONSOLE_IO_MODES,
  DEFAULT_IO,
  shellQuote,
  type ConsoleIo,
} from '../crossbuild/compile.js';
import type { Diagnostic } from '../crossbuild/diagnostics.js';
import { FIRMWARE_DIR } from '../crossbuild/runtime.js';
import { CRC_BYTES, crc32, decodeTfm, encodeTfm, readTfm } from '../qmodel/index.js';
import { formatSizeTable, loadSize, parseMapFile, sizeReport, type SizeReport } from '../size/index.js';
import { CATEGORIES } from '../size/categorize.js';
import { TinyforgeError } from '../util/errors.js';
import { embedSources } from './embed.js';
import { prepareReference, runPrepared } from '../reference/index.js';
import { stagingDir, toJsonText, writeFileAtomic } from '../util/files.js';
import { quantizeWindows, writeWindowsFile } from './windows.js';

export const HARNESS_DIR = join(FIRMWARE_DIR, 'harness');
export const HARNESS_SOURCE = join(HARNESS_DIR, 'harness.c');
export const HARNESS_HOOKS_HEADER = 'tf_harness_hooks.h';
export const DEFAULT_BOARD = 'netduinoplus2';
export const DEFAULT_OPT_LEVEL = '-O2';
export const BUILD_SCHEMA = 'tinyforge.build/1';
/** Where a failed compile leaves the generated sources (inside the build folder). */
export const FAILED_SOURCES = 'failed-src';

/** Names inside a build folder. */
export const BUILD_FILES = {
  info: 'build.json',
  model: 'model.tfm',
  sources: 'src',
  firmware: 'firmware',
  sizeJson: 'size.json',
  sizeText: 'size.txt',
  embeddedWindows: 'embedded-windows.bin',
  run: 'run.json',
} as const;

export interface BuildModelFirmwareOptions {
  /** The model, in memory ... */
  model?: CompressedModel;
  /** ... or a .tfm file (exactly one of the two). */
  tfmPath?: string;
  /** Board name or board (default netduinoplus2). */
  board?: Board | string;
  outDir: string;
  /** gcc optimization level, '-O2' (default), '-Os', '-O3', ... */
  optLevel?: string;
  extraCFlags?: string[];
  /**
   * Embed mode: these windows and labels go into flash and the firmware computes the accuracy
   * itself (no host files needed). `windows` are raw sensor values (labels.length * T * C floats),
   * quantized here as the model expects; or pass `inputs` already quantized.
   */
  embed?: {
    windows?: Float32Array;
    inputs?: Int8Array;
    labels: ArrayLike<number>;
    source?: string;
    /**
     * Self-test only: the logits the chip must produce (windows x classes). Default, and what the
     * CLI uses: the host reference's over the embedded inputs. (Tests pass altered ones.)
     */
    expectedLogits?: Int8Array;
  };
  /**
   * The UART self-test application (embed mode): the host reference's logits go into flash next
   * to the windows, and the firmware prints per window whether its logits equal them, a summary
   * line, and exits 0 only when all do (TF_EXIT_CHECK otherwise). See firmware/harness/harness.c.
   */
  selftest?: boolean;
  /**
   * Per-layer instruction counts and the layer trace (TF_LAYER_BEGIN/END/OUTPUT hooks). Default
   * true; they add about a dozen instructions per layer to each inference.
   */
  profile?: boolean;
  /**
   * The harness can print a CRC-32 of every layer's output of every window (`run --layers`); it
   * costs about 1.1 KB of harness flash (1,108 B on the UCI HAR p8 model), so it is built only when asked. Needs `profile`.
   */
  layers?: boolean;
  /** Shown in the generated sources' comments (default: the .tfm name or 'model'). */
  sourceName?: string;
  /** Kernel family per layer (--ram; default fast). */
  ram?: RamOption;
  /**
   * Console I/O: 'semihosting' (default; needs a debugger or QEMU) or 'uart' (the board's console
   * USART, runs on a bare board; embed mode only, as input files need semihosting).
   */
  io?: ConsoleIo;
  /** --prefix of the generated C (default tf_); the harness reaches it through adapter headers. */
  prefix?: string;
}

export interface BuildInfo {
  schema: typeof BUILD_SCHEMA;
  board: string;
  /** The board file, when the build was given one by path (build --board my/board.json). */
  boardFile?: string;
  model: {
    file: string;
    /** CRC-32 (hex) of the model without its free-form meta: the firmware prints it at start. */
    crc32: string;
    layers: number;
    classes: number;
    inputShape: [number, number];
    source?: string;
  };
  optLevel: string;
  extraCFlags: string[];
  defines: Record<string, string | number | true>;
  profile: boolean;
  /** Built with the per-layer CRCs (`run --layers`). */
  layers?: boolean;
  /** Console I/O the firmware was built for (absent in older build.json files: semihosting). */
  io: ConsoleIo;
  /** Built as the self-test application (absent: not). */
  selftest?: boolean;
  /** The C prefix, when not the default tf_. */
  prefix?: string;
  embed: { windows: number; file: string; labels: number[]; source?: string } | null;
  /** Paths relative to the build folder. */
  files: { elf: string; hex: string; bin: string; map: string; linkerScript: string; sources: string[] };
  /** Exact compiler command of model.c and the link command (paths of the temporary build folder). */
  commands: { compileModel: string; link: string };
  codegen: CodegenReport;
  warnings: string[];
}

export interface ModelFirmware {
  dir: string;
  board: Board;
  elf: string;
  hex: string;
  bin: string;
  map: string;
  tfm: string;
  /** Generated C sources (absolute paths). */
  sources: string[];
  sizeJson: string;
  sizeText: string;
  buildJson: string;
  info: BuildInfo;
  size: SizeReport;
  codegen: CodegenReport;
  diagnostics: Diagnostic[];
}

/** CRC-32 of the model's content (its .tfm encoding without meta): what ties a firmware to a model. */
export function modelCrc(model: CompressedModel): number {
  // Canonical form: what a .tfm file of the model reads back as (fields the format does not keep,
  // and key order, then cannot make a model read from its file differ from the one in memory).
  const bytes = encodeTfm({ ...decodeTfm(encodeTfm({ ...model, meta: {} })), meta: {} });
  // Not the whole file: it ends with its own CRC, and the CRC of data + CRC is a constant.
  return crc32(bytes.subarray(0, bytes.length - CRC_BYTES));
}

export function crcHex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}

const n = (v: number) => v.toLocaleString('en-US');

/** "weights 1,152,024 B (dense 1,152,024 B), arena 4,608 B, ..." from the failed link's map. */
function largestParts(report: SizeReport, region: 'flash' | 'ram'): string {
  const m = report[region];
  const cats = CATEGORIES.filter((c) => m.categories[c] > 0)
    .sort((a, b) => m.categories[b] - m.categories[a])
    .slice(0, 4)
    .map((c) => {
      let detail = '';
      if (c === 'weights' || c === 'tables') {
        const layers = Object.entries(report.layers)
          .map(([l, v]) => [l, v[c]] as const)
          .filter(([, b]) => b > 0)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3);
        if (layers.length) detail = ` (${layers.map(([l, b]) => `layer ${l} ${n(b)} B`).join(', ')})`;
      }
      return `${c} ${n(m.categories[c])} B${detail}`;
    });
  return `${region === 'flash' ? 'flash' : 'RAM'} holds ${n(m.total)} B of ${n(m.capacity)} B: ${cats.join(', ')}`;
}

async function explainOverflow(err: TinyforgeError, stage: string, outDir: string): Promise<TinyforgeError> {
  const failed = join(stage, `${BUILD_FILES.firmware}.failed.map`);
  if (!existsSync(failed)) return err;
  const kept = join(outDir, `${BUILD_FILES.firmware}.failed.map`);
  renameSync(failed, kept);
  let parts = '';
  try {
    const report = sizeReport(await parseMapFile(kept));
    const regions: ('flash' | 'ram')[] = [];
    if (/FLASH overflowed/.test(err.message)) regions.push('flash');
    if (/RAM overflowed/.test(err.message)) regions.push('ram');
    parts = regions.map((r) => largestParts(report, r)).join('; ');
  } catch {
    // The map of a failed link can be incomplete; the overflow message alone still stands.
  }
  return new TinyforgeError(
    parts ? `${err.message}. ${parts}` : err.message,
    'build',
    (err.hint ?? '').split(failed).join(kept),
  );
}

/** A compile error names files of the temporary folder: keep the sources where the message points. */
function keepFailedSources(err: TinyforgeError, srcDir: string, outDir: string): TinyforgeError {
  const kept = join(outDir, FAILED_SOURCES);
  rmSync(kept, { recursive: true, force: true });
  renameSync(srcDir, kept);
  return new TinyforgeError(
    err.message.split(srcDir).join(kept),
    'build',
    `${err.hint ?? ''} The generated sources are kept in ${kept}; the previous build in ${outDir} is unchanged.`.trim(),
  );
}

function checkModelChoice(o: BuildModelFirmwareOptions): void {
  if ((o.model === undefined) === (o.tfmPath === undefined)) {
    throw new TinyforgeError('buildModelFirmware needs exactly one of model and tfmPath', 'usage');
  }
}

/** uart firmware has no host files: only embed mode can give it windows. */
function checkIo(o: BuildModelFirmwareOptions): ConsoleIo {
  const io = o.io ?? DEFAULT_IO;
  if (!CONSOLE_IO_MODES.includes(io)) {
    throw new TinyforgeError(
      `unknown console I/O '${String(io)}'`,
      'usage',
      `Use one of: ${CONSOLE_IO_MODES.join(', ')}.`,
    );
  }
  if (o.selftest && !o.embed) {
    throw new TinyforgeError(
      "the self-test needs embed mode: the windows and the host reference's logits go into flash",
      'usage',
      'Pass the windows to embed (tinyforge build --selftest N --data <data>).',
    );
  }
  if (io === 'uart' && !o.embed) {
    throw new TinyforgeError(
      '--io uart needs embed mode (--embed N --data ...): a uart firmware cannot read a windows file, ' +
        'which only semihosting can bring from the host',
      'usage',
      'Add --embed N --data <UCI HAR directory or synthetic> to put the windows in flash, or leave out ' +
        '--io uart (semihosting, the default).',
    );
  }
  return io;
}

/** The host reference's logits of n windows: what the self-test firmware must reproduce. */
function selftestLogits(model: CompressedModel, inputs: Int8Array, n: number): Int8Array {
  const p = prepareReference(model);
  if (p.corrupt) {
    throw new TinyforgeError(
      "the self-test cannot be built: the host reference finds the model's weight data corrupt",
      'input',
      'Compress the model again (tinyforge compress).',
    );
  }
  const size = model.inputShape[0] * model.inputShape[1];
  const K = model.classNames.length;
  const logits = new Int8Array(n * K);
  for (let i = 0; i < n; i++)
    logits.set(runPrepared(p, inputs.subarray(i * size, (i + 1) * size)).logits, i * K);
  return logits;
}

/** Generates, cross-compiles and links the model with the harness; see the header comment. */
export async function buildModelFirmware(o: BuildModelFirmwareOptions): Promise<ModelFirmware> {
  checkModelChoice(o);
  const io = checkIo(o);
  const model = o.model ?? (await readTfm(o.tfmPath as string));
  const board = resolveBoard(o.board ?? DEFAULT_BOARD);
  const profile = o.profile ?? true;
  const layers = o.layers ?? false;
  if (layers && !profile)
    throw new TinyforgeError(
      'the per-layer checks need the per-layer hooks',
      'usage',
      'build without --no-profile',
    );
  const optLevel = o.optLevel ?? DEFAULT_OPT_LEVEL;
  const extraCFlags = o.extraCFlags ?? [];
  const [T, C] = model.inputShape;
  const numClasses = model.classNames.length;
  const sourceName = o.sourceName ?? (o.tfmPath ? basename(o.tfmPath) : 'model');
  const crc = modelCrc(model);

  const outDir = resolve(o.outDir);
  // Built in a staging folder inside outDir (same file system: the files move by rename).
  const stage = stagingDir(outDir, 'build');
  try {
    const srcDir = join(stage, BUILD_FILES.sources);
    const prefix = o.prefix ?? DEFAULT_PREFIX;
    const g = generateC(model, { sourceName, prefix, ...(o.ram ? { ram: o.ram } : {}) });
    const modelC = join(srcDir, prefixedFileName(FILE_NAMES.source, prefix));
    const header = g.files.find((f) => f.name === prefixedFileName(FILE_NAMES.header, prefix));
    const files = [...g.files, ...harnessAdapters(prefix, header?.content ?? '', HARNESS_HOOKS_HEADER)];
    let embedInfo: BuildInfo['embed'] = null;
    if (o.embed) {
      const labels = Array.from(o.embed.labels);
      const inputs =
        o.embed.inputs ??
        (o.embed.windows
          ? quantizeWindows(model, o.embed.windows, labels.length)
          : (() => {
              throw new TinyforgeError('embed needs windows or inputs', 'usage');
            })());
      if (inputs.length !== labels.length * T * C) {
        throw new TinyforgeError(
          `embed: ${inputs.length} input values for ${labels.length} labels of ${T} x ${C} windows`,
          'usage',
        );
      }
      const expected = o.selftest
        ? (o.embed.expectedLogits ?? selftestLogits(model, inputs, labels.length))
        : undefined;
      files.push(...embedSources(inputs, labels, T, C, numClasses, expected));
      writeWindowsFile(join(stage, BUILD_FILES.embeddedWindows), inputs, labels.length, T, C);
      embedInfo = {
        windows: labels.length,
        file: BUILD_FILES.embeddedWindows,
        labels,
        ...(o.embed.source ? { source: o.embed.source } : {}),
      };
    }
    const written = await writeSources(srcDir, files);
    writeFileAtomic(join(stage, BUILD_FILES.model), encodeTfm(model));

    const defines: Record<string, string | number | true> = { TF_MODEL_CRC: `0x${crcHex(crc)}u` };
    if (profile) {
      const hooks = prefix === DEFAULT_PREFIX ? HARNESS_HOOKS_HEADER : hooksHeaderName(prefix);
      defines[`${prefix.toUpperCase()}HOOKS_HEADER`] = `"${hooks}"`;
    }
    if (layers) defines.TF_HARNESS_LAYERS = true;
    if (embedInfo) defines.TF_HARNESS_EMBED = true;
    if (o.selftest) defines.TF_HARNESS_SELFTEST = true;
    const cSources = [modelC, HARNESS_SOURCE];
    if (embedInfo) cSources.push(join(srcDir, 'tf_windows.c'));

    let fw;
    try {
      fw = await buildFirmware({
        board,
        io,
        sources: cSources,
        includeDirs: [srcDir, HARNESS_DIR],
        defines,
        optLevel,
        extraCFlags,
        outDir: stage,
        name: BUILD_FILES.firmware,
      });
    } catch (e) {
      if (e instanceof TinyforgeError && e.category === 'build') {
        if (/does not fit/.test(e.message)) throw await explainOverflow(e, stage, outDir);
        throw keepFailedSources(e, srcDir, outDir);
      }
      throw e;
    }

    const loaded = await loadSize(fw.elf);
    const final = (p: string) => p.split(stage).join(outDir);
    const size: SizeReport = {
      ...loaded.report,
      map: final(loaded.report.map),
      elf: join(outDir, basename(fw.elf)),
    };
    writeFileAtomic(join(stage, BUILD_FILES.sizeJson), toJsonText(size));
    writeFileAtomic(join(stage, BUILD_FILES.sizeText), formatSizeTable(size));

    const compileModel = fw.commands.find((c) => c.argv.includes(modelC));
    const link = fw.commands.find((c) => c.argv.includes('-nostartfiles'));
    const rel = (p: string) => p.slice(stage.length + 1);
    const info: BuildInfo = {
      schema: BUILD_SCHEMA,
      board: board.name,
      // A board given as a file (a variant): run finds it there, not among src/boards.
      ...(typeof o.board === 'string' && o.board.endsWith('.json') ? { boardFile: resolve(o.board) } : {}),
      model: {
        file: BUILD_FILES.model,
        crc32: crcHex(crc),
        layers: model.layers.length,
        classes: numClasses,
        inputShape: [T, C],
        ...(o.tfmPath ? { source: resolve(o.tfmPath) } : {}),
      },
      optLevel,
      extraCFlags,
      defines,
      profile,
      layers,
      io,
      ...(o.selftest ? { selftest: true } : {}),
      ...(prefix === DEFAULT_PREFIX ? {} : { prefix }),
      embed: embedInfo,
      files: {
        elf: rel(fw.elf),
        hex: rel(fw.hex),
        bin: rel(fw.bin),
        map: rel(fw.map),
        linkerScript: rel(fw.linkerScript),
        sources: written.map(rel),
      },
      commands: { compileModel: final(compileModel?.line ?? ''), link: link?.line ?? '' },
      codegen: g.report,
      warnings: [
        ...fw.diagnostics.map((d) => `${d.file ?? ''}:${d.line ?? ''}: ${d.message}`),
        ...(g.report.ram.fastKept.length ? [fastKeptWarning(g.report.ram.fastKept)] : []),
      ],
    };

    // Replace the previous build, our names only (outDir may hold the user's files too). build.json
    // goes first and comes back last: killed in between, the folder has none, and `run` refuses it
    // as no build folder (readBuildInfo) instead of running a mix of two builds.
    const ours = [
      BUILD_FILES.info,
      BUILD_FILES.run,
      BUILD_FILES.model,
      BUILD_FILES.sources,
      BUILD_FILES.sizeJson,
      BUILD_FILES.sizeText,
      BUILD_FILES.embeddedWindows,
      ...['elf', 'hex', 'bin', 'map', 'ld', 'failed.map'].map((e) => `${BUILD_FILES.firmware}.${e}`),
    ];
    rmSync(join(outDir, BUILD_FILES.info), { force: true });
    rmSync(join(outDir, FAILED_SOURCES), { recursive: true, force: true });
    for (const f of ours) rmSync(join(outDir, f), { recursive: true, force: true });
    for (const f of ours) if (existsSync(join(stage, f))) renameSync(join(stage, f), join(outDir, f));
    writeFileAtomic(join(outDir, BUILD_FILES.info), toJsonText(info));

    return {
      dir: outDir,
      board,
      elf: join(outDir, info.files.elf),
      hex: join(outDir, info.files.hex),
      bin: join(outDir, info.files.bin),
      map: join(outDir, info.files.map),
      tfm: join(outDir, BUILD_FILES.model),
      sources: info.files.sources.map((s) => join(outDir, s)),
      sizeJson: join(outDir, BUILD_FILES.sizeJson),
      sizeText: join(outDir, BUILD_FILES.sizeText),
      buildJson: join(outDir, BUILD_FILES.info),
      info,
      size,
      codegen: g.report,
      diagnostics: fw.diagnostics,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

const buildInfoSchema = z.looseObject({
  schema: z.literal(BUILD_SCHEMA),
  board: z.string(),
  boardFile: z.string().optional(),
  model: z.looseObject({ file: z.string(), crc32: z.string().regex(/^[0-9a-f]{8}$/) }),
  profile: z.boolean(),
  layers: z.boolean().default(false),
  io: z.enum(CONSOLE_IO_MODES as [ConsoleIo, ...ConsoleIo[]]).default(DEFAULT_IO),
  embed: z.looseObject({ windows: z.number().int().positive(), file: z.string() }).nullable(),
  files: z.looseObject({ elf: z.string(), map: z.string() }),
});

/** Reads a build folder's build.json (what `tinyforge build` wrote). */
export function readBuildInfo(dir: string): BuildInfo {
  const path = join(dir, BUILD_FILES.info);
  if (!existsSync(path)) {
    throw new TinyforgeError(
      `${dir} is not a tinyforge build folder (no ${BUILD_FILES.info})`,
      'input',
      'Build it first: tinyforge build model.tfm --out <dir>',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TinyforgeError(
      `${path}: not valid JSON (${(e as Error).message})`,
      'input',
      'Rebuild the folder.',
    );
  }
  const parsed = buildInfoSchema.safeParse(data);
  if (!parsed.success) {
    throw new TinyforgeError(
      `${path} is not a build description of this tinyforge version: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      'input',
      'Rebuild the folder with tinyforge build.',
    );
  }
  // Older folders have no io field: their firmware is semihosting (the default applied).
  return { ...(data as BuildInfo), io: parsed.data.io };
}

/** Shell-quoted flags for people. */
export function flagsLine(info: BuildInfo): string {
  return [info.optLevel, ...info.extraCFlags].map(shellQuote).join(' ');
}
