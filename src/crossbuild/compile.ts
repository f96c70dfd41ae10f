// Cross-compiles C/assembly sources plus the firmware runtime for a board into ELF, HEX, BIN and
// a linker map. Everything is produced in a temporary folder inside outDir and moved into place
// only when the whole build succeeded, so a failed build never leaves half-written outputs.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { hex32, resolveBoard, type Board } from '../boards/boards.js';
import { consoleDefines } from '../boards/console.js';
import { requireBuildTools } from '../toolchain/check.js';
import { TinyforgeError } from '../util/errors.js';
import {
  parseDiagnostics,
  parseRegionOverflows,
  type Diagnostic,
  type RegionOverflow,
} from './diagnostics.js';
import {
  FIRMWARE_DIR,
  FIRMWARE_INCLUDE_DIR,
  FIRMWARE_RUNTIME_SOURCES,
  boardDefines,
  machineFlags,
  renderLinkerScript,
} from './runtime.js';

/**
 * Where the firmware's stdio goes. 'semihosting': to the host through the debugger / QEMU
 * (host files, command line, exit status; halts a board without a debugger). 'uart': to the
 * board's console USART (no files, no command line; the runtime ends with a "TF exit" line).
 */
export type ConsoleIo = 'semihosting' | 'uart';
export const CONSOLE_IO_MODES: readonly ConsoleIo[] = ['semihosting', 'uart'];
export const DEFAULT_IO: ConsoleIo = 'semihosting';

/** The console driver linked into --io uart firmware (instead of newlib's rdimon). */
export const UART_CONSOLE_SOURCE = join(FIRMWARE_DIR, 'src', 'tf_console_uart.c');

export interface BuildFirmwareOptions {
  /** Board name (src/boards/<name>.json) or a loaded board. */
  board: Board | string;
  /** Console I/O (default 'semihosting'); 'uart' needs a board with a "console" entry. */
  io?: ConsoleIo;
  /** C (.c) and assembly (.S, .s) files of the program; the runtime in firmware/src is added. */
  sources: string[];
  includeDirs?: string[];
  /** -D flags: true gives -DNAME, a string or number -DNAME=value. */
  defines?: Record<string, string | number | true>;
  /** Default '-O2'. */
  optLevel?: string;
  extraCFlags?: string[];
  extraLdFlags?: string[];
  /** Treat warnings as errors (default true: tinyforge's C is -Wall -Wextra clean). */
  werror?: boolean;
  outDir: string;
  /** Base name of the outputs: <name>.elf, .hex, .bin, .map, .ld */
  name: string;
}

export interface BuildCommand {
  /** Folder the command ran in (the temporary build folder; relative paths are inside it). */
  cwd: string;
  argv: string[];
  /** argv as one shell-quoted line. */
  line: string;
}

export interface FirmwareBuild {
  board: Board;
  io: ConsoleIo;
  elf: string;
  hex: string;
  bin: string;
  map: string;
  linkerScript: string;
  /** Every command run, in order: one compile per source, the link, two objcopy. */
  commands: BuildCommand[];
  /** Warnings and notes (errors fail the build). */
  diagnostics: Diagnostic[];
}

const OPT_LEVEL = /^-O([0-3sgz]|fast)?$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function defineFlags(defines: Record<string, string | number | true>): string[] {
  return Object.entries(defines).map(([k, v]) => (v === true ? `-D${k}` : `-D${k}=${v}`));
}

/** Object file names that stay unique when two sources share a base name. */
function objectNames(sources: string[]): string[] {
  const used = new Set<string>();
  return sources.map((s) => {
    const stem = basename(s, extname(s));
    let name = `${stem}.o`;
    for (let i = 2; used.has(name); i++) name = `${stem}_${i}.o`;
    used.add(name);
    return join('obj', name);
  });
}

/** -D flags and the runtime source of the uart console; a usage error for a board without one. */
function uartConsole(board: Board): { defines: Record<string, string | true>; sources: string[] } {
  const c = board.console;
  if (!c) {
    throw new TinyforgeError(
      `board ${board.name} has no console: --io uart needs a "console" entry in src/boards/${board.name}.json`,
      'usage',
      "Build with --io semihosting (the default), or describe the board's USART, e.g. " +
        '"console": { "kind": "stm32-usart", "base": "0x40011000" }.',
    );
  }
  const defines: Record<string, string | true> = { TF_IO_UART: true, ...consoleDefines(c) };
  return { defines, sources: [UART_CONSOLE_SOURCE] };
}

function checkOptions(o: BuildFirmwareOptions, optLevel: string): void {
  if (o.io !== undefined && !CONSOLE_IO_MODES.includes(o.io)) {
    throw new TinyforgeError(
      `unknown console I/O '${String(o.io)}'`,
      'usage',
      `Use one of: ${CONSOLE_IO_MODES.join(', ')}.`,
    );
  }
  if (!NAME.test(o.name)) {
    throw new TinyforgeError(
      `invalid firmware name '${o.name}'`,
      'usage',
      'Use letters, digits, _, . and -.',
    );
  }
  if (!OPT_LEVEL.test(optLevel)) {
    throw new TinyforgeError(
      `invalid optimization level '${optLevel}'`,
      'usage',
      'Use -O0..-O3, -Os or -Og.',
    );
  }
  if (o.sources.length === 0) throw new TinyforgeError('no source files to build', 'usage');
  for (const s of o.sources) {
    if (!existsSync(s) || !statSync(s).isFile()) {
      throw new TinyforgeError(`firmware source ${s} not found`, 'input', 'Check the path.');
    }
    if (!['.c', '.S', '.s'].includes(extname(s))) {
      throw new TinyforgeError(`firmware source ${s} is not C (.c) or assembly (.S, .s)`, 'usage');
    }
  }
  for (const d of o.includeDirs ?? []) {
    if (!existsSync(d)) throw new TinyforgeError(`include folder ${d} not found`, 'input', 'Check the path.');
  }
}

function overflowError(
  board: Board,
  name: string,
  overflows: RegionOverflow[],
  heapSize: number,
  failedMap?: string,
) {
  const parts = overflows.map((o) => {
    const r = o.region === 'FLASH' ? board.flash : o.region === 'RAM' ? board.ram : undefined;
    const capacity = r ? ` (capacity ${r.length} bytes = ${r.length / 1024} KiB at ${hex32(r.origin)})` : '';
    return `${o.region} overflowed by ${o.bytes} bytes${capacity}`;
  });
  const hints: string[] = [];
  if (overflows.some((o) => o.region === 'FLASH')) {
    hints.push('make the model smaller (prune more, fewer weight bits, Huffman coding) or build with -Os');
  }
  if (overflows.some((o) => o.region === 'RAM')) {
    hints.push(
      `reduce the activation arena, or the stack (${board.stackSize} bytes)` +
        (heapSize > 0 ? ` / heap (${heapSize} bytes)` : '') +
        ` reserved in src/boards/${board.name}.json`,
    );
  }
  if (failedMap) hints.push(`${failedMap} shows what takes the space`);
  return new TinyforgeError(
    `firmware '${name}' does not fit board ${board.name}: ${parts.join('; ')}`,
    'build',
    hints.join('; ') + '.',
  );
}

/** Keeps the first lines of a tool's stderr for an error message. */
function excerpt(stderr: string, maxLines = 25): string {
  const lines = stderr.trim().split('\n');
  return lines.length <= maxLines
    ? lines.join('\n')
    : [...lines.slice(0, maxLines), `... (${lines.length - maxLines} more lines)`].join('\n');
}

/** Cross-compiles and links a firmware; returns the output paths and the commands run. */
export async function buildFirmware(options: BuildFirmwareOptions): Promise<FirmwareBuild> {
  const board = resolveBoard(options.board);
  const optLevel = options.optLevel ?? '-O2';
  checkOptions(options, optLevel);
  const io = options.io ?? DEFAULT_IO;
  const uart = io === 'uart' ? uartConsole(board) : null;
  // uart: stdio's buffers are static (tf_crt.c), so the heap region is empty.
  const heapSize = uart ? 0 : board.heapSize;
  const { gcc, objcopy } = await requireBuildTools();

  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(outDir, `.${options.name}.tmp-`));
  const commands: BuildCommand[] = [];
  const diagnostics: Diagnostic[] = [];

  const run = async (file: string, argv: string[], what: string) => {
    commands.push({ cwd: tmp, argv: [file, ...argv], line: [file, ...argv].map(shellQuote).join(' ') });
    const r = await execa(file, argv, { cwd: tmp, reject: false, stdin: 'ignore' });
    if (r.exitCode === undefined) {
      throw new TinyforgeError(`${what}: ${file} could not run: ${r.shortMessage}`, 'toolchain');
    }
    const found = parseDiagnostics(r.stderr);
    diagnostics.push(...found.filter((d) => d.severity !== 'error'));
    return r;
  };

  try {
    const sources = [
      ...FIRMWARE_RUNTIME_SOURCES,
      ...(uart?.sources ?? []),
      ...options.sources.map((s) => resolve(s)),
    ];
    const objects = objectNames(sources);
    const defines = { ...boardDefines(board), ...(uart?.defines ?? {}), ...(options.defines ?? {}) };
    const cflags = [
      ...machineFlags(board),
      '-std=c99',
      '-Wall',
      '-Wextra',
      ...(options.werror === false ? [] : ['-Werror']),
      optLevel,
      '-g',
      '-ffunction-sections',
      '-fdata-sections',
      ...defineFlags(defines),
      `-I${FIRMWARE_INCLUDE_DIR}`,
      ...(options.includeDirs ?? []).map((d) => `-I${resolve(d)}`),
      ...(options.extraCFlags ?? []),
    ];
    mkdirSync(join(tmp, 'obj'));
    for (let i = 0; i < sources.length; i++) {
      const r = await run(gcc, [...cflags, '-c', sources[i], '-o', objects[i]], 'compiling');
      if (r.exitCode !== 0) {
        throw new TinyforgeError(
          `compiling ${sources[i]} for board ${board.name} failed:\n${excerpt(r.stderr)}`,
          'build',
          'Fix the C error above (file and line are in the message).',
        );
      }
    }

    const ld = `${options.name}.ld`;
    const elf = `${options.name}.elf`;
    const map = `${options.name}.map`;
    writeFileSync(join(tmp, ld), renderLinkerScript(board, { heapSize }));
    const link = await run(
      gcc,
      [
        ...machineFlags(board),
        optLevel,
        '-nostartfiles',
        '--specs=nano.specs',
        // uart: the console driver provides stdio's system calls; libnosys stubs any other one
        // (e.g. _open: no host files) instead of rdimon's semihosting.
        uart ? '--specs=nosys.specs' : '--specs=rdimon.specs',
        '-T',
        ld,
        '-Wl,--gc-sections',
        `-Wl,-Map=${map}`,
        ...(options.extraLdFlags ?? []),
        ...objects,
        '-o',
        elf,
      ],
      'linking',
    );
    if (link.exitCode !== 0) {
      const overflows = parseRegionOverflows(link.stderr);
      if (overflows.length > 0) {
        let failedMap: string | undefined;
        if (existsSync(join(tmp, map))) {
          failedMap = join(outDir, `${options.name}.failed.map`);
          renameSync(join(tmp, map), failedMap);
        }
        throw overflowError(board, options.name, overflows, heapSize, failedMap);
      }
      throw new TinyforgeError(
        `linking firmware '${options.name}' for board ${board.name} failed:\n${excerpt(link.stderr)}`,
        'build',
        'An undefined reference names a function or variable no source defines; check the sources given.',
      );
    }

    const hex = `${options.name}.hex`;
    const bin = `${options.name}.bin`;
    for (const [format, file] of [
      ['ihex', hex],
      ['binary', bin],
    ]) {
      const r = await run(objcopy, ['-O', format, elf, file], 'objcopy');
      if (r.exitCode !== 0) {
        throw new TinyforgeError(`objcopy -O ${format} failed:\n${excerpt(r.stderr)}`, 'toolchain');
      }
    }

    // Complete: move into place, the ELF last (it is what later stages look for).
    for (const f of [ld, map, hex, bin, elf]) renameSync(join(tmp, f), join(outDir, f));
    rmSync(join(outDir, `${options.name}.failed.map`), { force: true });
    return {
      board,
      io,
      elf: join(outDir, elf),
      hex: join(outDir, hex),
      bin: join(outDir, bin),
      map: join(outDir, map),
      linkerScript: join(outDir, ld),
      commands,
      diagnostics,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
