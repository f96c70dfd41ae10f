// `tinyforge build model.tfm --out dir/`: generated C + measurement harness -> firmware ELF, HEX,
// BIN and map for a board, with the size report (size.json / size.txt) and the flags (build.json).
import type { Argv, CommandModule } from 'yargs';
import type { WindowSet } from '../../data/dataset.js';
import { buildModelFirmware, DEFAULT_BOARD, flagsLine, type ModelFirmware } from '../../measure/index.js';
import { formatSizeTable } from '../../size/index.js';
import { TinyforgeError } from '../../util/errors.js';
import type { CompressedModel } from '../../qmodel/model.js';
import { CONSOLE_IO_MODES, DEFAULT_IO, type ConsoleIo } from '../../crossbuild/compile.js';
import { RAM_OPTION, ramFrom } from '../ramOption.js';
import { ramLines } from './compile.js';
import { readTfm } from '../../qmodel/index.js';
import { checkPrefix, DEFAULT_PREFIX } from '../../codegen/index.js';
import { printJson } from '../output.js';
import { hex32 } from '../../boards/boards.js';
import { dataForTfm, describeData, runSplit, type ModelData } from '../data.js';

/** gcc levels accepted as -O<level> (the yargs option names are O0, Os, ...). */
const LEVELS = ['0', '1', '2', '3', 's', 'g', 'z', 'fast'] as const;

export interface OptLevelArgs {
  opt?: string;
  [k: string]: unknown;
}

/**
 * -O2, -Os, -O3 ... as gcc spells them, or --opt Os / -O s. yargs would read "-Os" as "-O -s", so
 * the command turns short-option grouping off and knows each level as a flag of its own.
 */
export function withOptLevel<T>(y: Argv<T>): Argv<T> {
  let out = y.parserConfiguration({ 'short-option-groups': false }).option('opt', {
    alias: 'O',
    type: 'string',
    describe: 'optimization level: -O2 (default), -Os, -O3, ... or --opt Os',
  });
  for (const l of LEVELS) out = out.option(`O${l}`, { type: 'boolean', hidden: true });
  return out as Argv<T>;
}

/** The level chosen, as a gcc flag ('-O2'), or undefined for the default. */
export function optLevelFrom(a: OptLevelArgs): string | undefined {
  const flags = LEVELS.filter((l) => a[`O${l}`] === true);
  const chosen: string[] = flags.map((l) => `-O${l}`);
  if (a.opt !== undefined) {
    const v = String(a.opt).replace(/^-?O/, '');
    if (!(LEVELS as readonly string[]).includes(v)) {
      throw new TinyforgeError(
        `unknown optimization level '${a.opt}'`,
        'usage',
        'Use -O0..-O3, -Os, -Og, -Oz or -Ofast.',
      );
    }
    chosen.push(`-O${v}`);
  }
  if (new Set(chosen).size > 1) {
    throw new TinyforgeError(`more than one optimization level: ${chosen.join(' ')}`, 'usage');
  }
  return chosen[0];
}

/** --cflags "-funroll-loops -DX" -> ['-funroll-loops', '-DX']. */
export function splitCFlags(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

/** The first n windows of a split (raw sensor values) and their labels. */
export function takeWindows(set: WindowSet, n: number | undefined, what: string): WindowSet {
  if (n === undefined) return set;
  if (!Number.isInteger(n) || n < 1)
    throw new TinyforgeError(`${what} must be a positive integer, got ${n}`, 'usage');
  const k = Math.min(n, set.n);
  const w = set.steps * set.channels;
  return { ...set, n: k, x: set.x.subarray(0, k * w), y: set.y.subarray(0, k) };
}

/** A split of the data a .tfm is used with (--data, else its record), checked against the model. */
export function pickSplit(
  given: string | undefined,
  split: 'test' | 'train',
  model: CompressedModel,
  modelName: string,
): { set: WindowSet; data: ModelData } {
  const data = dataForTfm(given, model, modelName);
  return { set: runSplit(data.dataset, split), data };
}

interface BuildArgs extends OptLevelArgs {
  model: string;
  out: string;
  board: string;
  cflags?: string;
  embed?: number;
  selftest?: number;
  data?: string;
  split: 'test' | 'train';
  profile: boolean;
  layers: boolean;
  io?: ConsoleIo;
  ram: string;
  prefix: string;
  json: boolean;
}

/** How to flash and watch a real board's image (no flashing tool runs from tinyforge). */
function flashHint(fw: ModelFirmware): string[] {
  if (fw.board.qemu || fw.info.io !== 'uart') return [];
  const baud = fw.board.console?.baud ?? 115_200;
  return [
    `flash ${fw.hex} (or ${fw.bin} at ${hex32(fw.board.flash.origin)}) and read the board's serial port at ${baud} baud 8N1: see firmware/README.md "Flashing a real board"`,
  ];
}

export function printBuild(fw: ModelFirmware): void {
  const what = fw.info.selftest ? ', self-test' : '';
  process.stdout.write(
    [
      `built ${fw.elf} for ${fw.board.name} (${flagsLine(fw.info)}${fw.info.profile ? ', per-layer hooks' : ''}${fw.info.embed ? `, ${fw.info.embed.windows} windows in flash` : ''}${what}${fw.info.io === 'uart' ? ', console on the USART' : ''})`,
      `also: ${[fw.hex, fw.bin, fw.map, fw.sizeText, fw.buildJson].join(', ')}`,
      ...flashHint(fw),
      ...ramLines(fw.info.codegen),
      '',
      formatSizeTable(fw.size),
    ].join('\n'),
  );
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: 'build <model>',
  describe: 'Cross-compile model + harness into firmware (ELF, HEX, BIN, map, size report)',
  builder: (y) =>
    withOptLevel(
      y
        .positional('model', { type: 'string', demandOption: true, describe: 'compressed model (.tfm)' })
        .option('out', { type: 'string', demandOption: true, describe: 'build folder (created if needed)' })
        .option('board', {
          type: 'string',
          default: DEFAULT_BOARD,
          describe: 'board: a name (src/boards/<name>.json) or a board file (path ending in .json)',
        })
        .option('cflags', {
          type: 'string',
          describe: 'extra compiler flags, one string: --cflags="-funroll-loops -DX=1"',
        })
        .option('embed', {
          type: 'number',
          describe: 'put the first N windows of --data in flash: the firmware prints the accuracy itself',
        })
        .option('selftest', {
          type: 'number',
          describe:
            "the UART self-test: the first N windows of --data and the host's logits in flash; the firmware prints per window whether its logits equal the host's and exits 0 only if all do (implies --io uart)",
        })
        .option('data', {
          type: 'string',
          describe:
            'with --embed or --selftest: UCI HAR directory, dataset description (.json) or synthetic[:opts] (default: the data the .tfm was compressed with)',
        })
        .option('split', {
          choices: ['test', 'train'] as const,
          default: 'test' as const,
          describe: 'with --embed or --selftest',
        })
        .option('layers', {
          type: 'boolean',
          default: false,
          describe:
            'let `run --layers` compare every layer of every window (CRC-32 per layer; about 1.1 KB of harness flash)',
        })
        .option('profile', {
          type: 'boolean',
          default: true,
          describe: 'per-layer instruction hooks and the layer trace (--no-profile: without)',
        })
        .option('io', {
          choices: CONSOLE_IO_MODES,
          describe:
            "console I/O: semihosting (default; needs a debugger or QEMU) or uart (the board's USART, runs on a bare board; needs --embed or --selftest, the self-test's default)",
        })
        .options(RAM_OPTION)
        .option('prefix', {
          type: 'string',
          default: DEFAULT_PREFIX,
          describe: "namespace of the model's C names (as compile --prefix); the harness adapts to it",
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print the build and size report as JSON',
        })
        .example('$0 build out/m8.tfm --out out/m8-fw', 'Firmware for netduinoplus2 at -O2')
        .example(
          '$0 build out/m8.tfm --out out/m8-os -Os --embed 200',
          'Size-optimized, the first 200 test windows of the data the model was compressed with in flash',
        )
        .example(
          '$0 build out/m8.tfm --out out/m8-uart --embed 200 --io uart',
          'For a board without a debugger: results on the USART',
        )
        .example(
          '$0 build out/m8.tfm --out out/m8-f401 --board nucleo-f401re --selftest 20',
          "Self-test image for a NUCLEO-F401RE: 20 windows checked against the host's logits, PASS/FAIL on the ST-LINK serial port",
        ),
    ) as never,
  handler: async (a) => {
    checkPrefix(a.prefix);
    if (a.embed !== undefined && a.selftest !== undefined) {
      throw new TinyforgeError(
        '--embed and --selftest both choose the windows in flash',
        'usage',
        'Use --selftest N alone: it embeds N windows and checks them.',
      );
    }
    const windows = a.selftest ?? a.embed;
    if (a.data && windows === undefined) {
      throw new TinyforgeError('--data is only used with --embed N or --selftest N', 'usage');
    }
    // The self-test is meant for a bare board: uart unless semihosting is asked for.
    const io: ConsoleIo = a.io ?? (a.selftest !== undefined ? 'uart' : DEFAULT_IO);
    if (io === 'uart' && windows === undefined) {
      throw new TinyforgeError(
        '--io uart needs --embed N: a uart firmware has no semihosting to read a windows file from the host',
        'usage',
        'Add --embed N --data <data> (without --data: the data the .tfm was compressed with) to put the windows in flash, or leave out --io uart.',
      );
    }
    let embed;
    if (windows !== undefined) {
      const what = a.selftest !== undefined ? '--selftest' : '--embed';
      const model = await readTfm(a.model);
      const picked = pickSplit(a.data, a.split, model, a.model);
      const set = takeWindows(picked.set, windows, what);
      if (!a.json) process.stderr.write(`build: embedding windows of ${describeData(picked.data)}\n`);
      embed = { windows: set.x, labels: set.y, source: `${picked.data.spec} (${a.split}, first ${set.n})` };
    }
    const fw = await buildModelFirmware({
      tfmPath: a.model,
      board: a.board,
      outDir: a.out,
      optLevel: optLevelFrom(a),
      extraCFlags: splitCFlags(a.cflags),
      embed,
      profile: a.profile,
      layers: a.layers,
      io,
      selftest: a.selftest !== undefined,
      ram: ramFrom(a.ram),
      prefix: a.prefix,
    });
    if (a.json) {
      printJson({
        dir: fw.dir,
        elf: fw.elf,
        hex: fw.hex,
        bin: fw.bin,
        map: fw.map,
        tfm: fw.tfm,
        build: fw.info,
        size: fw.size,
      });
    } else printBuild(fw);
  },
};
